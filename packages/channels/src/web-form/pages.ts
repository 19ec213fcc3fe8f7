import { html } from 'hono/html'
import type { Html, PageLanguage } from '@intake/core'

/** What the citizen typed, kept so a rejected form comes back filled in instead of empty. */
export interface FormValues {
  text: string
  place: string
  name: string
  email: string
  phone: string
  anonymous: boolean
}

export const EMPTY_FORM: FormValues = { text: '', place: '', name: '', email: '', phone: '', anonymous: false }

/** The form control an error is about, so the page can point the screen reader at it. */
export type FormField = 'text' | 'place' | 'photos' | 'name' | 'email' | 'phone'

export interface FormLimits {
  maxPhotos: number
  maxPhotoBytes: number
  maxTextChars: number
}

// Core's page style has no rules for these controls yet; without them the photo picker and the
// checkbox are too small to hit with a thumb on a phone (seen on a 390 px wide screenshot).
const FILE_PICKER = 'display:block;width:100%;padding:.75rem;border:1px dashed #8c959f;border-radius:6px;background:#fff;font:inherit'
const CHECKBOX = 'width:1.4rem;height:1.4rem;margin:0;flex:none'
const GROUP_HEADING = 'font-size:1.1rem;margin:0 0 .5rem'
// Colour alone must not mark an error (WCAG 1.4.1): the bar and the box do too.
const ALERT = 'border-left:4px solid var(--err);background:#fff;padding:.5rem .75rem;border-radius:4px'

export const MAX_PLACE_CHARS = 500
export const MAX_NAME_CHARS = 200

const megabytes = (bytes: number) => {
  const mb = bytes / (1024 * 1024)
  return Number.isInteger(mb) ? String(mb) : mb.toFixed(1)
}

/** Query value for a language, as the status page spells it. */
export const langParam = (lang: PageLanguage) => (lang === 'en' ? 'en' : 'zh')

export const TEXT = {
  'zh-CN': {
    title: '在线提交诉求',
    intro: '请告诉我们您遇到的问题或您的建议。提交后您会得到一个查询编号，可以随时查看办理进度。',
    textLabel: '您的诉求',
    required: '（必填）',
    textHint: (l: FormLimits) =>
      l.maxPhotos > 0 ? `请写清楚发生了什么、在什么时间，最多 ${l.maxTextChars} 字。附了照片时可以不写。` : `请写清楚发生了什么、在什么时间，最多 ${l.maxTextChars} 字。`,
    placeLabel: '地点',
    optional: '（选填）',
    placeHint: '例如：县、乡镇、村或街道门牌号，或者附近的标志性建筑',
    photosLabel: '照片',
    photosHint: (l: FormLimits) => `最多 ${l.maxPhotos} 张，每张不超过 ${megabytes(l.maxPhotoBytes)} MB，JPEG、PNG 或 WebP 格式`,
    contactLegend: '联系方式',
    contactHint: '留下联系方式，办理单位可以联系您，并把答复发给您。',
    nameLabel: '姓名',
    emailLabel: '电子邮箱',
    phoneLabel: '电话',
    anonymousLabel: '匿名提交',
    anonymousHint: '勾选后，我们不会保存您填写的姓名和联系方式。',
    honeypotLabel: '请不要填写此项',
    submit: '提交',
    // Confirmation
    receivedTitle: '已收到您的诉求',
    addedTitle: '已收到您的补充信息',
    codeLabel: '您的查询编号',
    received: '您的诉求已经登记，并已转交负责的单位办理。',
    added: '您补充的信息已加入这个编号的诉求，办理单位会看到。',
    statusLink: '查看办理进度',
    nextTitle: '接下来',
    next: [
      '请记下或截图保存这个编号，凭它可以随时查询办理进度。',
      '办理单位答复后，答复会显示在进度页面上。',
      '如需补充情况，请再次提交，并在内容里写上这个编号。',
    ],
    sentTitle: '您提交的内容',
    sentPlace: '地点',
    sentPhotos: (n: number) => `照片：${n} 张`,
    thanksTitle: '谢谢',
    thanks: '您的提交已收到。',
    // Rejection
    failedTitle: '提交没有成功',
    backToForm: '返回表单重新填写',
    fixBelow: '请修改下面的内容后再次提交。照片需要重新选择。',
    startOver: '重新打开空白表单',
  },
  en: {
    title: 'Submit a request',
    intro: 'Tell us about a problem or make a suggestion. You will get a tracking code to follow what happens next.',
    textLabel: 'Your message',
    required: ' (required)',
    textHint: (l: FormLimits) =>
      l.maxPhotos > 0
        ? `Say what happened and when, in up to ${l.maxTextChars} characters. You may leave it empty if you attach a photo.`
        : `Say what happened and when, in up to ${l.maxTextChars} characters.`,
    placeLabel: 'Place',
    optional: ' (optional)',
    placeHint: 'For example a county, township, village or street and house number, or a landmark nearby',
    photosLabel: 'Photos',
    photosHint: (l: FormLimits) => `Up to ${l.maxPhotos}, each at most ${megabytes(l.maxPhotoBytes)} MB, as JPEG, PNG or WebP`,
    contactLegend: 'Contact details',
    contactHint: 'So the office can reach you and send you its answer.',
    nameLabel: 'Name',
    emailLabel: 'Email',
    phoneLabel: 'Phone',
    anonymousLabel: 'Send anonymously',
    anonymousHint: 'If ticked, we do not keep your name or contact details.',
    honeypotLabel: 'Leave this field empty',
    submit: 'Send',
    receivedTitle: 'We have received your request',
    addedTitle: 'We have added your information',
    codeLabel: 'Your tracking code',
    received: 'Your request has been registered and passed on to the office responsible.',
    added: 'What you sent has been added to the case with this code; the office will see it.',
    statusLink: 'See how your case is going',
    nextTitle: 'What happens next',
    next: [
      'Write the code down or take a screenshot: with it you can check your case at any time.',
      'When the office answers, its reply appears on the status page.',
      'To add something later, send the form again and include this code in your message.',
    ],
    sentTitle: 'What you sent',
    sentPlace: 'Place',
    sentPhotos: (n: number) => (n === 1 ? '1 photo' : `${n} photos`),
    thanksTitle: 'Thank you',
    thanks: 'We have received your submission.',
    failedTitle: 'Your form was not sent',
    backToForm: 'Back to the form',
    fixBelow: 'Please correct the form below and send it again. Photos need to be chosen again.',
    startOver: 'Start again with an empty form',
  },
} satisfies Record<PageLanguage, unknown>

export interface FormPageInput {
  lang: PageLanguage
  basePath: string
  title: string
  limits: FormLimits
  submission: string
  values?: FormValues
  error?: { message: string; field?: FormField }
}

/** The form itself, also re-rendered (filled in, with the error) when a submission is refused. */
export function formBody({ lang, basePath, title, limits, submission, values = EMPTY_FORM, error }: FormPageInput): Html {
  const t = TEXT[lang]
  // aria-invalid plus the alert's id in aria-describedby make a screen reader announce the error on the field itself.
  const invalid = (field: FormField) => (error?.field === field ? 'true' : 'false')
  const describedBy = (field: FormField, hint: string) => (error?.field === field ? `${hint} form-error` : hint)
  return html`<h1>${title}</h1>
${error
  ? html`<p class="error" role="alert" id="form-error" style="${ALERT}">${error.message}</p>
<p>${t.fixBelow} <a href="${basePath}/?lang=${langParam(lang)}">${t.startOver}</a></p>`
  : html`<p>${t.intro}</p>`}
<form method="post" action="${basePath}/submit?lang=${langParam(lang)}" enctype="multipart/form-data" accept-charset="utf-8">
<input type="hidden" name="submission" value="${submission}" autocomplete="off">
<input type="hidden" name="lang" value="${lang}">
<label for="text">${t.textLabel}<span class="hint">${t.required}</span></label>
<p class="hint" id="text-hint">${t.textHint(limits)}</p>
<textarea id="text" name="text" rows="8" maxlength="${limits.maxTextChars}" aria-describedby="${describedBy('text', 'text-hint')}" aria-invalid="${invalid('text')}">${values.text}</textarea>
<label for="place">${t.placeLabel}<span class="hint">${t.optional}</span></label>
<p class="hint" id="place-hint">${t.placeHint}</p>
<input type="text" id="place" name="place" value="${values.place}" maxlength="${MAX_PLACE_CHARS}" autocomplete="street-address" aria-describedby="${describedBy('place', 'place-hint')}" aria-invalid="${invalid('place')}">
${limits.maxPhotos > 0
  ? html`<label for="photos">${t.photosLabel}<span class="hint">${t.optional}</span></label>
<p class="hint" id="photos-hint">${t.photosHint(limits)}</p>
<input type="file" id="photos" name="photos" accept="image/jpeg,image/png,image/webp" multiple aria-describedby="${describedBy('photos', 'photos-hint')}" aria-invalid="${invalid('photos')}" style="${FILE_PICKER}">`
  : ''}
<div class="card" role="group" aria-labelledby="contact-legend" aria-describedby="contact-hint">
<h2 id="contact-legend" style="${GROUP_HEADING}">${t.contactLegend}<span class="hint">${t.optional}</span></h2>
<p class="hint" id="contact-hint">${t.contactHint}</p>
<label for="name">${t.nameLabel}</label>
<input type="text" id="name" name="name" value="${values.name}" maxlength="${MAX_NAME_CHARS}" autocomplete="name" aria-invalid="${invalid('name')}"${error?.field === 'name' ? html` aria-describedby="form-error"` : ''}>
<label for="email">${t.emailLabel}</label>
<input type="email" id="email" name="email" value="${values.email}" maxlength="254" autocomplete="email" inputmode="email" aria-invalid="${invalid('email')}"${error?.field === 'email' ? html` aria-describedby="form-error"` : ''}>
<label for="phone">${t.phoneLabel}</label>
<input type="tel" id="phone" name="phone" value="${values.phone}" maxlength="40" autocomplete="tel" aria-invalid="${invalid('phone')}"${error?.field === 'phone' ? html` aria-describedby="form-error"` : ''}>
<label class="check" for="anonymous" style="margin-top:1.25rem"><input type="checkbox" id="anonymous" name="anonymous" value="1" aria-describedby="anonymous-hint" style="${CHECKBOX}"${values.anonymous ? html` checked` : ''}> ${t.anonymousLabel}</label>
<p class="hint" id="anonymous-hint">${t.anonymousHint}</p>
</div>
<div class="hp" aria-hidden="true">
<label for="website">${t.honeypotLabel}</label>
<input type="text" id="website" name="website" value="" tabindex="-1" autocomplete="off">
</div>
<button type="submit" style="width:100%">${t.submit}</button>
</form>`
}

/** What the citizen sent, echoed on the confirmation so a screenshot of it is a complete receipt. */
export interface SentSummary {
  text: string
  place: string
  photos: number
}

export function confirmationBody(opts: { lang: PageLanguage; trackingCode: string; followUp: boolean; sent?: SentSummary }): Html {
  const t = TEXT[opts.lang]
  const sent = opts.sent
  const statusHref = `/status/${encodeURIComponent(opts.trackingCode)}?lang=${langParam(opts.lang)}`
  return html`<h1>${opts.followUp ? t.addedTitle : t.receivedTitle}</h1>
<p id="code-label">${t.codeLabel}</p>
<p><span class="code" aria-labelledby="code-label" data-testid="tracking-code">${opts.trackingCode}</span></p>
<p role="status">${opts.followUp ? t.added : t.received}</p>
<p><a href="${statusHref}" data-testid="status-link"><strong>${t.statusLink}</strong></a></p>
<div class="card">
<h2 style="${GROUP_HEADING}">${t.nextTitle}</h2>
<ul>${t.next.map((line) => html`<li>${line}</li>`)}</ul>
</div>
${sent
  ? html`<div class="card" data-testid="sent">
<h2 style="${GROUP_HEADING}">${t.sentTitle}</h2>
${sent.text.trim() ? html`<div class="reply">${sent.text}</div>` : ''}
${sent.place ? html`<p><strong>${t.sentPlace}:</strong> ${sent.place}</p>` : ''}
${sent.photos > 0 ? html`<p>${t.sentPhotos(sent.photos)}</p>` : ''}
</div>`
  : ''}`
}

export function thanksBody(lang: PageLanguage): Html {
  const t = TEXT[lang]
  return html`<h1>${t.thanksTitle}</h1>
<p role="status">${t.thanks}</p>`
}

/** A refusal without the citizen's values to refill (too large to read, or not a form at all). */
export function rejectionBody(opts: { lang: PageLanguage; basePath: string; message: string }): Html {
  const t = TEXT[opts.lang]
  return html`<h1>${t.failedTitle}</h1>
<p class="error" role="alert" style="${ALERT}">${opts.message}</p>
<p><a href="${opts.basePath}/?lang=${langParam(opts.lang)}">${t.backToForm}</a></p>`
}
