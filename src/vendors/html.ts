/** Escaping for the HTML we build ourselves (ticket bodies, the outbox pages). */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Plain text of a scalar (objects are not meant to be printed: they render as nothing). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return '';
}

export function escapeHtml(value: unknown): string {
  return textOf(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
