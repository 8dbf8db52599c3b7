// Plain-text tables as kubectl and istioctl print them: a header row, columns left-aligned and
// separated by at least two spaces, no trailing blanks.

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    headers
      .map((_, column) => (cells[column] ?? '').padEnd(column === headers.length - 1 ? 0 : (widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
