import type { CommandLine, OptionName } from './args.js';
import { GROUPS } from './commands.js';

/** Options whose values are not personal, and so may appear in a message (`--schema accounts`). */
const SHOWN: ReadonlySet<OptionName> = new Set<OptionName>([
  'schema',
  'data-dir',
  'limit',
  'after-seq',
  'from',
  'expected-version',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A last line of defence for error output: every value typed on the command
 * line that could be personal (an email, a handle, a name, an identity, a
 * reason, a password in a URL, an argument that is not a generated user id)
 * is replaced by `[withheld]` wherever it appears. The messages themselves
 * are written not to quote inputs; this catches what a message did not
 * foresee, such as a library message naming "the id" someone typed an
 * email address into.
 */
export function withheld(line: CommandLine | undefined): (text: string) => string {
  if (line === undefined) return (text) => text;
  const values: string[] = [];
  for (const [name, value] of line.options) {
    if (typeof value !== 'string' || SHOWN.has(name)) continue;
    if (name === 'database-url') values.push(...urlSecrets(value));
    else if (name === 'identity') values.push(value, value.slice(value.indexOf(':') + 1));
    else values.push(value);
  }
  const commandWords = GROUPS.includes(line.words[0] ?? '') ? 2 : 1;
  for (const word of line.words.slice(commandWords)) if (!UUID.test(word)) values.push(word);
  const hidden = values.filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
  return (text) => hidden.reduce((out, value) => out.replaceAll(value, '[withheld]'), text);
}

function urlSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [parsed.password, decodeURIComponent(parsed.password)].filter((p) => p !== '');
  } catch {
    return [url];
  }
}
