/**
 * Where the shipped Klaviyo email templates live (templates/klaviyo/<segment>.html at the project
 * root), found from this file both when run from source and from the built dist/ tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Segment } from '../workflows/policy';

let cached: string | undefined;

export function klaviyoTemplatesDir(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'templates', 'klaviyo');
    if (fs.existsSync(path.join(candidate, 'welcome.html'))) return (cached = candidate);
    if (path.dirname(dir) === dir) throw new Error('templates/klaviyo not found above ' + __dirname);
  }
}

export function klaviyoTemplatePath(segment: Segment): string {
  return path.join(klaviyoTemplatesDir(), `${segment}.html`);
}
