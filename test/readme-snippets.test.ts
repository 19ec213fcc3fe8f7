/**
 * Every TypeScript block of the README's "Write a plugin" section, and every `@example` on the
 * plugin contracts, type-checks against the real packages. Each is compiled as a module placed in
 * examples/custom-plugin/ (where a plugin's own files would be), without writing anything to disk.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const home = join(root, 'examples', 'custom-plugin')

interface Snippet {
  origin: string
  code: string
}

function readmeSnippets(): Snippet[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('\n## Write a plugin')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ origin: `README.md, "Write a plugin", TypeScript block ${i + 1}`, code: m[1]! }))
}

/** The `@example` blocks of a source file's doc comments, with the comment's ` * ` taken off. */
function docExamples(file: string): Snippet[] {
  const source = readFileSync(join(root, file), 'utf8')
  const out: Snippet[] = []
  for (const comment of source.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
    const lines = comment.split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/$/, ''))
    const at = lines.findIndex((l) => l.startsWith('@example'))
    if (at < 0) continue
    const end = lines.findIndex((l, i) => i > at && l.startsWith('@'))
    out.push({ origin: `${file}, @example ${out.length + 1}`, code: lines.slice(at + 1, end < 0 ? undefined : end).join('\n') })
  }
  return out
}

const DOCUMENTED = [
  'packages/core/src/contracts/channel.ts',
  'packages/core/src/config/intake-thread.ts',
  'packages/channels/src/kit/index.ts',
  'packages/channels/src/kit/provider-stand-in.ts',
]

describe('plugin documentation', () => {
  const snippets = [...readmeSnippets(), ...DOCUMENTED.flatMap(docExamples)]

  it('finds the snippets it is meant to check', () => {
    expect(readmeSnippets().length).toBeGreaterThanOrEqual(5)
    for (const file of DOCUMENTED) expect(docExamples(file).length, file).toBeGreaterThan(0)
  })

  it('type-checks every one of them', () => {
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(join(home, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, home)
    const virtual = new Map(snippets.map((s, i) => [join(home, `__snippet_${i}.ts`), s]))
    const host = ts.createCompilerHost(parsed.options)
    const getSourceFile = host.getSourceFile.bind(host)
    host.fileExists = (f) => virtual.has(f) || ts.sys.fileExists(f)
    host.readFile = (f) => virtual.get(f)?.code ?? ts.sys.readFile(f)
    host.getSourceFile = (f, lang, ...rest) => {
      const snippet = virtual.get(f)
      // A snippet is a module even when it only declares: `export {}` keeps its names its own.
      return snippet ? ts.createSourceFile(f, `${snippet.code}\nexport {}\n`, lang, true) : getSourceFile(f, lang, ...rest)
    }
    const program = ts.createProgram([...virtual.keys()], parsed.options, host)
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && virtual.has(d.file.fileName))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
        return `${virtual.get(d.file!.fileName)!.origin}, line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
      })
    expect(problems).toEqual([])
  }, 180_000) // a whole program through the compiler: tens of seconds on a shared machine
})
