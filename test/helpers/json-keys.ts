/**
 * Keys that occur more than once in one object of a JSON text, at any depth.
 * JSON.parse keeps the last of duplicate keys silently, so a log line with two
 * `level` keys parses fine and lies; this scanner reads the text itself.
 */
export function duplicateKeys(text: string): string[] {
  const dupes: string[] = [];
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) dupes.push(key);
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack.at(-1) !== null && stack.length > 0;
    }
  }
  return dupes;
}
