import { z } from 'zod'

/** A text in the deployment's languages: one string, or one per language ({ 'zh-CN': ..., en: ... }). */
export const LocalText = z.union([z.string().min(1), z.record(z.string(), z.string().min(1))])
export type LocalText = z.infer<typeof LocalText>

/**
 * Who the pages say they are: the agency's name, logo, hotline, privacy notice and footer, and the
 * favicon. Citizens and staff should see their agency, not "Intake".
 */
export const Branding = z
  .object({
    agencyName: LocalText.default('Intake'),
    /** A URL (or path on this server) of the logo shown in page headers. */
    logoUrl: z.string().optional(),
    /** The hotline number citizens can call, shown on every page. */
    hotline: z.string().max(40).optional(),
    /** What is collected and why (shown on the form and linked from every footer). */
    privacyNotice: LocalText.optional(),
    footer: LocalText.optional(),
    /** A file (SVG, PNG or ICO) served at /favicon.ico; a plain mark is drawn when absent. */
    faviconFile: z.string().optional(),
  })
  .strict()
export type Branding = z.infer<typeof Branding>
export type BrandingInput = z.input<typeof Branding>

/** The text in `lang`, falling back to the first one given. */
export function localText(text: LocalText | undefined, lang: string): string | undefined {
  if (text === undefined || typeof text === 'string') return text
  return text[lang] ?? text[lang.slice(0, 2)] ?? Object.values(text)[0]
}
