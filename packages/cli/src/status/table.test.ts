import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable } from './table.ts';

describe('renderTable', () => {
  it('aligns columns two spaces apart under their headers, without trailing blanks', () => {
    const table = renderTable(
      ['PROXY', 'CLUSTERS', 'VERSION'],
      [
        ['frontend.default', 'SYNCED', '0.1.0'],
        ['a.b', 'NACKED', ''],
      ],
    );
    assert.equal(table, ['PROXY             CLUSTERS  VERSION', 'frontend.default  SYNCED    0.1.0', 'a.b               NACKED'].join('\n'));
  });

  it('prints the headers alone when there are no rows', () => {
    assert.equal(renderTable(['NAME', 'TYPE'], []), 'NAME  TYPE');
  });
});
