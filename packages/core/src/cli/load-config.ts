import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError, type IntakeConfig } from '../config/index.ts'

export async function loadConfig(file: string): Promise<IntakeConfig> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: IntakeConfig }
  if (!mod.default) throw new ConfigError([`${file} has no default export (export default defineConfig({...}))`])
  return mod.default
}
