/**
 * The scan command's operands as files: a file as itself, `-` as standard input, a directory as
 * every file under it (recursively, in name order), and a glob (`*`, `?`, `**`, `[abc]`; quoted, so
 * that the shell left it alone) as the files it matches.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

export interface ExpandedInputs {
  /** Files to read, in order, without repeats; `-` is standard input. */
  files: string[];
  /** Operands that name nothing: `OPERAND: reason`. */
  problems: string[];
}

const GLOB_CHARS = /[*?[]/;

/** Every file under `dir`, depth first, entries in name order. */
function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (e.isFile()) out.push(path);
  }
}

/** A glob as a regular expression over `/`-separated paths (`**` spans directories). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function expandGlob(pattern: string): string[] {
  const norm = pattern.replace(/^\.\//, '');
  const parts = norm.split('/');
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, firstGlob).join('/') || (norm.startsWith('/') ? '/' : '.');
  const re = globToRegExp(norm);
  const found: string[] = [];
  try {
    walk(base, found);
  } catch {
    return [];
  }
  return found.filter((f) => re.test(f.split(sep).join('/')));
}

export function expandInputs(operands: readonly string[]): ExpandedInputs {
  const files: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    if (f === '-' || !seen.has(f)) files.push(f);
    seen.add(f);
  };
  for (const operand of operands) {
    const stats = operand === '-' ? undefined : statSync(operand, { throwIfNoEntry: false });
    if (stats?.isDirectory()) {
      const found: string[] = [];
      walk(operand, found);
      if (found.length === 0) problems.push(`${operand}: directory holds no file`);
      found.forEach(add);
    } else if (!stats && GLOB_CHARS.test(operand)) {
      const found = expandGlob(operand);
      if (found.length === 0) problems.push(`${operand}: no file matches`);
      found.forEach(add);
    } else add(operand);
  }
  return { files, problems };
}
