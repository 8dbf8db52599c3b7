// weft install: prints deploy/k8s as kustomize would build it. The manifests themselves are
// validated in e2e/manifests; this covers the command and its kustomization reader.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEPLOY_DIR, installCommand, kustomizationResources, KustomizationError, renderInstall, SOURCE_PREFIX } from './install-command.ts';

function capture(): { write(text: string): boolean; text: string } {
  return {
    text: '',
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

describe('weft install', () => {
  it('prints every file of deploy/k8s/kustomization.yaml, in order, each after a Source comment', async () => {
    const stdout = capture();
    const stderr = capture();
    assert.equal(await installCommand.run([], stdout, stderr), 0, stderr.text);
    assert.equal(stderr.text, '');
    const resources = kustomizationResources(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8'));
    // A file may hold several documents (rbac.yaml does); files are joined by a separator.
    let rejoined = '';
    for (const [index, path] of resources.entries()) {
      const body = readFileSync(join(DEPLOY_DIR, path), 'utf8').trimEnd();
      rejoined += `${index > 0 ? '---\n' : ''}${SOURCE_PREFIX}${path}\n${body}\n`;
    }
    assert.equal(stdout.text, rejoined);
    assert.ok(stdout.text.includes('kind: MutatingWebhookConfiguration'));
    assert.ok(stdout.text.startsWith(`${SOURCE_PREFIX}namespace.yaml\n`));
  });

  it('refuses flags it does not know, with the usage (exit 2), and prints the usage for --help', async () => {
    const stdout = capture();
    const stderr = capture();
    assert.equal(await installCommand.run(['--namespace', 'x'], stdout, stderr), 2);
    assert.equal(stdout.text, '');
    assert.match(stderr.text, /usage: weft install/);
    const help = capture();
    assert.equal(await installCommand.run(['--help'], help, capture()), 0);
    assert.match(help.text, /weft install \| kubectl apply -f -/);
  });

  describe('kustomization reader', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'weft-install-'));
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it('reads a block list of files, with comments, quotes and a leading document separator in a file', () => {
      mkdirSync(join(tmp, 'ok', 'sub'), { recursive: true });
      writeFileSync(join(tmp, 'ok', 'kustomization.yaml'), '# c\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml   # first\n\n- "sub/b.yml"\n');
      writeFileSync(join(tmp, 'ok', 'a.yaml'), '---\nkind: A\n');
      writeFileSync(join(tmp, 'ok', 'sub', 'b.yml'), 'kind: B\n\n\n');
      assert.equal(renderInstall(join(tmp, 'ok')), `${SOURCE_PREFIX}a.yaml\nkind: A\n---\n${SOURCE_PREFIX}sub/b.yml\nkind: B\n`);
    });

    for (const [what, text] of [
      ['a kustomize feature it cannot honour by concatenation', 'resources:\n- a.yaml\nnamePrefix: x-\n'],
      ['a directory', 'resources:\n- crds\n'],
      ['a path outside the directory', 'resources:\n- ../a.yaml\n'],
      ['a remote resource', 'resources:\n- https://example.com/a.yaml\n'],
      ['a flow list', 'resources: [a.yaml]\n'],
      ['no resources', 'kind: Kustomization\n'],
    ] as const) {
      it(`refuses ${what}`, () => {
        assert.throws(() => kustomizationResources(text), KustomizationError);
      });
    }
  });
});
