/**
 * Klaviyo in the sandbox: a `KlaviyoClient` that keeps everything local. A recovery event is
 * "sent" the way the merchant's Klaviyo flow would send it: the segment's template from
 * templates/klaviyo/ is rendered with the event's properties into the outbox.
 *
 * It refuses what Klaviyo refuses (a malformed email, an event without metric or unique id) with
 * the same typed failures, and records a repeated unique_id for the same profile and metric once.
 * Customers are unknown (new) unless listed in DATA_DIR/sandbox/klaviyo-profiles.json.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { KlaviyoClient, KlaviyoEvent, KlaviyoProfile } from '../klaviyo/client';
import { invalidRecipient, vendorRefused } from '../failures';
import { klaviyoTemplatePath } from '../templates';
import { SEGMENTS, type Segment } from '../../workflows/policy';
import { compileTemplate, type CompiledTemplate } from './template';
import { Outbox, outboxEmailId } from './outbox';
import { sandboxPaths } from './paths';

/** One entry of klaviyo-profiles.json (all fields optional). */
export interface SandboxProfile {
  ordersCount?: number;
  historicClv?: number;
  predictedClv?: number;
  averageOrderValue?: number;
  churnProbability?: number;
  consent?: 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'NEVER_SUBSCRIBED';
  suppressionReasons?: string[];
  timezone?: string;
  lastEventDate?: string;
  segments?: string[];
}

/** Klaviyo's own check is stricter than ours: it wants a real top-level domain. */
const KLAVIYO_EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;.]+(\.[^\s@"<>,;.]+)*\.[A-Za-z]{2,}$/;

/** A stable profile id per email, as Klaviyo gives each profile one. */
function sandboxProfileId(email: string): string {
  return `sandbox-${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 20)}`;
}

export interface SandboxKlaviyoOptions {
  dataDir: string;
  now?: () => Date;
}

export class SandboxKlaviyo implements KlaviyoClient {
  readonly outbox: Outbox;
  private readonly profilesFile: string;
  private readonly now: () => Date;
  private readonly templates = new Map<Segment, Promise<CompiledTemplate>>();

  constructor(options: SandboxKlaviyoOptions) {
    this.outbox = new Outbox(options.dataDir);
    this.profilesFile = sandboxPaths(options.dataDir).klaviyoProfiles;
    this.now = options.now ?? (() => new Date());
  }

  private async profiles(): Promise<Record<string, SandboxProfile>> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.profilesFile, 'utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Error(`${this.profilesFile}: expected an object keyed by email`);
      }
      const out: Record<string, SandboxProfile> = {};
      for (const [email, profile] of Object.entries(parsed))
        out[email.trim().toLowerCase()] = profile as SandboxProfile;
      return out;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  private template(segment: Segment): Promise<CompiledTemplate> {
    let template = this.templates.get(segment);
    if (!template) {
      template = fs.readFile(klaviyoTemplatePath(segment), 'utf8').then(compileTemplate);
      this.templates.set(segment, template);
    }
    return template;
  }

  async findProfileByEmail(email: string): Promise<KlaviyoProfile | null> {
    const profile = (await this.profiles())[email.trim().toLowerCase()];
    if (!profile) return null;
    const reasons = profile.suppressionReasons ?? [];
    return {
      id: sandboxProfileId(email),
      email,
      timezone: profile.timezone ?? null,
      lastEventDate: profile.lastEventDate ?? null,
      predictive: {
        historicClv: profile.historicClv ?? 0,
        predictedClv: profile.predictedClv ?? null,
        historicNumberOfOrders: profile.ordersCount ?? 0,
        averageOrderValue: profile.averageOrderValue ?? null,
        churnProbability: profile.churnProbability ?? null,
      },
      emailMarketing: {
        canReceiveEmailMarketing: (profile.consent ?? 'SUBSCRIBED') === 'SUBSCRIBED' && reasons.length === 0,
        consent: profile.consent ?? 'SUBSCRIBED',
        suppressionReasons: reasons,
      },
    };
  }

  async isProfileInSegment(profileId: string, segmentId: string): Promise<boolean> {
    const entry = Object.entries(await this.profiles()).find(
      ([email]) => sandboxProfileId(email) === profileId,
    );
    return (entry?.[1].segments ?? []).includes(segmentId);
  }

  accountCurrency(): Promise<string | null> {
    return Promise.resolve(null);
  }

  async createEvent(event: KlaviyoEvent): Promise<{ reference: string }> {
    const facts = {
      vendor: 'Klaviyo' as const,
      operation: 'event creation',
      status: 400,
      codes: ['invalid'],
    };
    if (!KLAVIYO_EMAIL.test(event.email))
      throw invalidRecipient(facts, 'the email address is not valid (invalid)');
    if (event.metric.trim() === '') throw vendorRefused(facts, 'HTTP 400 invalid at /data/attributes/metric');
    if (event.uniqueId.trim() === '')
      throw vendorRefused(facts, 'HTTP 400 invalid at /data/attributes/unique_id');

    const props = event.properties;
    const segment = SEGMENTS.find((s) => s === props.segment);
    if (!segment)
      throw vendorRefused(facts, 'the event has no known segment, so no flow branch would send it');
    const html = (await this.template(segment)).render(
      { event: props },
      { unsubscribeUrl: '#unsubscribe-is-not-real-in-the-sandbox' },
    );
    // Klaviyo records the event either way, but its flow does not email a suppressed or
    // unsubscribed profile: the outbox keeps the email, marked as not sent.
    const known = (await this.profiles())[event.email.trim().toLowerCase()];
    const reasons = known?.suppressionReasons ?? [];
    const skipped =
      reasons.length > 0
        ? `suppressed (${reasons.join(', ')})`
        : known?.consent === 'UNSUBSCRIBED'
          ? 'unsubscribed'
          : null;
    const id = outboxEmailId(event.email, event.metric, event.uniqueId);
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    const { email } = await this.outbox.deliver(
      {
        id,
        createdAt: this.now().toISOString(),
        to: event.email,
        subject: str(props.subject) ?? '(no subject)',
        preheader: str(props.preheader) ?? '',
        metric: event.metric,
        uniqueId: event.uniqueId,
        shop: str(props.shop),
        checkoutToken: str(props.checkout_token),
        segment,
        touch: num(props.touch),
        totalTouches: num(props.total_touches),
        discountCode: str(props.discount_code),
        skipped,
      },
      html,
    );
    return { reference: `sandbox-outbox:${email.id}` };
  }
}
