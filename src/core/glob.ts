/** A list of `*` globs as one test: true when the value matches any of them (`*` matches any run of characters). */
export function globTest(list: readonly string[]): (value: string) => boolean {
  const res = list.map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  return (value) => res.some((re) => re.test(value));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
