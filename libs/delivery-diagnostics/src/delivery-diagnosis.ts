import type {
  DeliveryDiagnosis,
  DeliveryFrequencyCap,
  DeliveryReason,
  DeliveryStages,
} from '@adfunnel/contracts';
import type { CampaignWindowCounts } from './delivery-reader.js';

/** What the catalog and the ledger say about a campaign now. */
export interface CampaignFacts {
  readonly campaignId: number;
  /** The catalog's status now: active, paused, ended, archived (or another the catalog adds). */
  readonly status: string;
  /** When the advertiser archived it (epoch ms); null: not archived. */
  readonly archivedAt: number | null;
  /** When it took its status now (epoch ms): created, paused, resumed, archived; null: not kept. */
  readonly statusChangedAt: number | null;
  readonly pacing: 'even' | 'asap';
  readonly frequencyCap: DeliveryFrequencyCap;
  /** Empty: every country (device). */
  readonly targetCountries: readonly string[];
  readonly targetDevices: readonly string[];
  readonly ads: { readonly total: number; readonly active: number };
  /** The advertiser's billing day now, from the ledger. */
  readonly today: {
    readonly billingDay: string;
    readonly timezone: string;
    readonly budgetMicros: number;
    readonly spendMicros: number;
    /** When the last charge of the day happened (epoch ms); null before the first. */
    readonly lastChargeAt: number | null;
  };
}

/** Where a campaign's window was cut to start (windowSince): at its creation, or at its first ad's. */
export interface CountedSince {
  readonly at: number;
  readonly by: 'campaign_created' | 'first_ad_created';
}

/**
 * From when a campaign could be compared with ad requests: its creation, or its first ad's creation
 * when that came later. Retrieval sees a campaign through its ads, of any status (one whose ads are
 * all paused is counted as matched without an active ad), so before its first ad no request was
 * compared with it, and those requests would read as misses of its targeting. Without an ad: its
 * creation (its requests are put down to no_active_ads, not to its targeting).
 */
export function comparedSince(createdAt: number, firstAdCreatedAt: number | null): CountedSince {
  return firstAdCreatedAt !== null && firstAdCreatedAt > createdAt
    ? { at: firstAdCreatedAt, by: 'first_ad_created' }
    : { at: createdAt, by: 'campaign_created' };
}

/** The stages of a campaign's window in the shape the answer gives them. */
export function deliveryStages({ campaign: c, totals }: CampaignWindowCounts): DeliveryStages {
  return {
    requests: totals.retrieval_requests,
    targetedInactive: c.targeted_inactive,
    targetedPaused: c.targeted_paused,
    targetedEnded: c.targeted_ended,
    eligible: c.eligible,
    budgetExhausted: c.budget_exhausted,
    budgetCommitted: c.budget_committed,
    frequencyCapped: c.frequency_capped,
    retrieved: c.retrieved,
    ranked: c.ranked,
    unranked: c.unranked,
    auction: {
      inactive: c.inactive,
      paced: c.paced,
      belowReserve: c.below_reserve,
      belowFloor: c.below_floor,
      advertiserCapped: c.advertiser_capped,
      categoryCapped: c.category_capped,
      outbid: c.outbid,
      budgetRefused: c.budget_refused,
      won: c.won,
    },
    served: c.served,
    impressions: c.impressions,
    clicks: c.clicks,
    conversions: c.conversions,
    hides: c.hides,
  };
}

/**
 * "Why isn't campaign X serving", in words and numbers: what the catalog and the ledger say about it
 * now, then where in the funnel it dropped out of the window's requests. `since`: set when the window
 * was cut to start at the campaign's creation or its first ad's (windowSince, comparedSince), so the
 * counts are those since then and the answer says so; requests from before it could be compared
 * with them are not its targeting's misses.
 */
export function diagnose(
  facts: CampaignFacts,
  counts: CampaignWindowCounts,
  windowMinutes: number,
  since?: CountedSince,
): DeliveryDiagnosis {
  const stages = deliveryStages(counts);
  const c = counts.campaign;
  const id = facts.campaignId;
  const within =
    since === undefined
      ? `in the last ${duration(windowMinutes)}`
      : since.by === 'campaign_created'
        ? 'since it was created'
        : 'since its first ad was created';
  const sentences: string[] = [];
  const requests = stages.requests;
  // Requests its targeting matched while it could not serve, by why (the status serving held then:
  // paused, ended or archived, or no active ad), and the rest, which its targeting did not match.
  const notServable = Math.min(c.targeted_inactive, Math.max(0, requests - c.eligible));
  const pausedMissed = Math.min(c.targeted_paused, notServable);
  const endedMissed = Math.min(c.targeted_ended, notServable - pausedMissed);
  // Retrieval sees a campaign through its ads: one without any was compared with no request.
  const unseen = facts.ads.total === 0 && c.eligible + c.targeted_inactive === 0;
  const notTargeted = unseen ? 0 : Math.max(0, requests - c.eligible - notServable);
  const statusNow: DeliveryReason | undefined =
    facts.status === 'paused' || facts.status === 'ended' || facts.status === 'archived'
      ? facts.status
      : facts.status !== 'active'
        ? 'inactive_status'
        : undefined;
  // Counts flushed before the paused and ended ones were kept have neither: their status now.
  const restReason: DeliveryReason =
    facts.ads.active === 0 || c.targeted_paused + c.targeted_ended > 0
      ? 'no_active_ads'
      : (statusNow ?? 'no_active_ads');
  const endedReason: DeliveryReason = facts.status === 'archived' ? 'archived' : 'ended';
  // "while it was …" only from the counts of that status (older counts have none: any inactive one).
  const matched = (n: number, state?: string) =>
    n > 0
      ? `: its targeting matched ${n} of the ${count(requests, 'ad request')} ${within}${state === undefined ? '' : ` while it was ${state}`}`
      : '';

  const at = (epochMs: number) =>
    ` at ${clockTime(epochMs, facts.today.timezone)} on ${calendarDay(epochMs, facts.today.timezone)} (${facts.today.timezone})`;
  if (facts.status === 'paused') {
    // Paused before the catalog kept the time of a pause: the status alone.
    const paused =
      facts.statusChangedAt === null
        ? 'is paused by the advertiser'
        : `was paused by the advertiser${at(facts.statusChangedAt)}`;
    sentences.push(
      `campaign ${id} ${paused}: it takes part in no auction until it is set active again${c.targeted_paused > 0 ? matched(pausedMissed, 'paused') : matched(notServable)}`,
    );
  } else if (facts.status === 'archived') {
    const when = facts.archivedAt === null ? '' : at(facts.archivedAt);
    sentences.push(
      `campaign ${id} was archived by the advertiser${when}: it takes part in no auction and cannot be set active again${c.targeted_ended > 0 ? matched(endedMissed, 'archived') : matched(notServable)}`,
    );
  } else if (facts.status === 'ended') {
    sentences.push(
      `campaign ${id} has ended: it takes part in no auction${c.targeted_ended > 0 ? matched(endedMissed, 'ended') : matched(notServable)}`,
    );
  } else if (facts.status !== 'active') {
    sentences.push(`campaign ${id} is ${facts.status}: it takes part in no auction${matched(notServable)}`);
  }
  // Paused (or ended) for part of the window only: which of its misses that was.
  if (facts.status !== 'paused' && pausedMissed > 0) {
    sentences.push(
      `it was paused for part of the window: its targeting matched ${pausedMissed} of the ${count(requests, 'ad request')} ${within} while it was paused`,
    );
  }
  if (facts.status !== 'ended' && facts.status !== 'archived' && endedMissed > 0) {
    sentences.push(
      `it had ended for part of the window: its targeting matched ${endedMissed} of the ${count(requests, 'ad request')} ${within} while it was ended`,
    );
  }
  if (facts.ads.active === 0) {
    sentences.push(
      facts.ads.total === 0
        ? `campaign ${id} has no ads`
        : `none of its ${count(facts.ads.total, 'ad')} is active`,
    );
  }
  if (since !== undefined) {
    const time = `${clockTime(since.at, facts.today.timezone)} (${facts.today.timezone})`;
    const asked = `not over the ${duration(windowMinutes)} asked for`;
    sentences.push(
      since.by === 'campaign_created'
        ? `counted since campaign ${id} was created at ${time}, ${asked}: the requests before it existed are not compared with it`
        : `counted since the first ad of campaign ${id} was created at ${time}, ${asked}: retrieval compares a campaign with ad requests through its ads, so the requests before it had one are not compared with it`,
    );
  }
  const budget = budgetSentence(facts, c.budget_exhausted, c.eligible);
  if (requests === 0) {
    if (budget !== undefined) sentences.push(budget);
    sentences.push(`no ad request reached retrieval ${within}: there is no serving to explain`);
    return { serving: false, stages, topReasons: [], diagnosis: sentences };
  }
  if (unseen) {
    sentences.push(
      `retrieval compares a campaign with ad requests through its ads: none of the ${count(requests, 'ad request')} ${within} was compared with it`,
    );
  }
  if (notTargeted > 0) {
    const targeting = targetingText(facts);
    const reached = c.eligible + notServable;
    sentences.push(
      reached === 0
        ? `no ad request matched ${targeting} ${within} (${count(requests, 'request')})`
        : `${targeting} matched ${reached} of the ${count(requests, 'ad request')} ${within} (${percent(reached / requests)})`,
    );
  }
  if (budget !== undefined) sentences.push(budget);
  if (c.budget_committed > 0) {
    sentences.push(
      `its remaining budget was held by served ads not yet charged in ${c.budget_committed} of the ${count(c.eligible, 'request')} it was eligible for`,
    );
  }
  if (c.frequency_capped > 0) {
    const within = c.eligible - c.budget_exhausted - c.budget_committed;
    sentences.push(
      `${capText(facts)} reached: the user had seen it enough in ${c.frequency_capped} of the ${count(within, 'request')} it was eligible for within budget (${percent(c.frequency_capped / Math.max(1, within))})`,
    );
  }
  const couldServe = c.eligible - c.budget_exhausted - c.budget_committed - c.frequency_capped;
  const notRetrieved = Math.max(0, couldServe - c.retrieved);
  if (notRetrieved > 0 && notRetrieved >= couldServe / 5) {
    sentences.push(
      `none of its ads was among retrieval's candidates in ${notRetrieved} of the ${count(couldServe, 'request')} it could serve`,
    );
  }
  const reached = c.inactive + c.paced + competed(c);
  if (c.inactive > 0) {
    sentences.push(
      `the auction found it or its ad no longer active in ${c.inactive} of ${count(reached, 'auction')} (the catalog changed)`,
    );
  }
  if (c.paced > 0) {
    sentences.push(
      `pacing (${facts.pacing}) held it out of ${c.paced} of the ${count(reached, 'auction')} it reached`,
    );
  }
  const lost = lossSentence(c);
  if (lost !== undefined) sentences.push(lost);
  sentences.push(
    c.served === 0
      ? `it served no ad ${within}`
      : `it served ${count(c.served, 'ad')} ${within}: ${count(c.impressions, 'impression')}, ${count(c.clicks, 'click')}, ${count(c.conversions, 'conversion')}`,
  );

  // A reason may come twice (the rest's status now, paused or ended): its counts add up.
  const reasons: [DeliveryReason, number][] = [
    ['paused', pausedMissed],
    [endedReason, endedMissed],
    [restReason, notServable - pausedMissed - endedMissed + (unseen ? requests : 0)],
    ['targeting', notTargeted],
    ['budget_exhausted', c.budget_exhausted],
    ['budget_committed', c.budget_committed],
    ['frequency_capped', c.frequency_capped],
    ['not_retrieved', notRetrieved],
    ['inactive', c.inactive],
    ['paced', c.paced],
    ['below_reserve', c.below_reserve],
    ['below_floor', c.below_floor],
    ['advertiser_capped', c.advertiser_capped],
    ['category_capped', c.category_capped],
    ['outbid', c.outbid],
    ['budget_refused', c.budget_refused],
  ];
  const byReason = new Map<DeliveryReason, number>();
  for (const [reason, n] of reasons) byReason.set(reason, (byReason.get(reason) ?? 0) + n);
  const topReasons = [...byReason]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([reason, n]) => ({ reason, count: n, share: Math.round((n / requests) * 1000) / 1000 }));
  // Serving now: it served in the window and can still serve (a campaign paused after it served is not).
  const servable = facts.status === 'active' && facts.ads.active > 0;
  return { serving: servable && c.served > 0, stages, topReasons, diagnosis: sentences };
}

function competed(c: CampaignWindowCounts['campaign']): number {
  return (
    c.below_reserve +
    c.below_floor +
    c.advertiser_capped +
    c.category_capped +
    c.outbid +
    c.budget_refused +
    c.won
  );
}

function lossSentence(c: CampaignWindowCounts['campaign']): string | undefined {
  const auctions = competed(c);
  const lost = auctions - c.won;
  if (lost <= 0) return undefined;
  const parts: string[] = [];
  if (c.outbid > 0) {
    const own = c.outbid_ecpm_micros / c.outbid / 1e6;
    const winner = c.outbid_winner_ecpm_micros / c.outbid / 1e6;
    parts.push(
      `outbid in ${c.outbid} of ${count(auctions, 'auction')}: its best ad's eCPM averaged ${usd(own)} against ${usd(winner)} for the lowest winning ad`,
    );
  }
  const other: string[] = [];
  if (c.below_reserve > 0) other.push(`below the reserve in ${c.below_reserve}`);
  if (c.below_floor > 0) other.push(`below a quality floor in ${c.below_floor}`);
  // Which cap left it out: its advertiser's ads of other campaigns (its own would have ranked it as
  // outbid or won, the best of its ads decides), or ads of its category.
  if (c.advertiser_capped > 0) {
    other.push(
      `left out for better ads of its advertiser's other campaigns by the limit on one advertiser's ads per answer (AUCTION_MAX_ADS_PER_ADVERTISER) in ${c.advertiser_capped}`,
    );
  }
  if (c.category_capped > 0) {
    other.push(
      `left out for better ads of the same category by the limit on one category's ads per answer (AUCTION_MAX_ADS_PER_CATEGORY) in ${c.category_capped}`,
    );
  }
  if (c.budget_refused > 0) {
    other.push(`won but its budget could not hold the ad (taken by other serves) in ${c.budget_refused}`);
  }
  if (other.length > 0) {
    parts.push(
      `${c.outbid > 0 ? 'also' : `lost ${lost} of ${count(auctions, 'auction')}:`} ${other.join(', ')}`,
    );
  }
  return parts.join('; ');
}

function budgetSentence(facts: CampaignFacts, exhausted: number, eligible: number): string | undefined {
  const { budgetMicros, spendMicros, lastChargeAt, billingDay, timezone } = facts.today;
  if (budgetMicros <= 0) return `its daily budget is ${usd(0)}: it cannot serve`;
  const share = spendMicros / budgetMicros;
  const spent = `daily budget spent: ${amount(spendMicros)} of ${amount(budgetMicros)}`;
  const day = `(billing day ${billingDay}, ${timezone})`;
  const when = lastChargeAt === null ? '' : `, the last charge at ${clockTime(lastChargeAt, timezone)}`;
  const leftOut =
    exhausted > 0
      ? `: left out of ${exhausted} of the ${count(eligible, 'request')} it was eligible for`
      : '';
  if (share >= 1) return `${spent} ${day}${when}${leftOut}`;
  // Floored: a budget 99.96% spent is not "100%" spent.
  const pct = `${Math.floor(share * 1000) / 10}%`;
  if (exhausted > 0) return `${spent} (${pct}) ${day}${when}, less than one more ad costs${leftOut}`;
  if (share >= 0.8) return `${spent} (${pct}) so far ${day}`;
  return undefined;
}

function targetingText(facts: CampaignFacts): string {
  const parts = [
    facts.targetCountries.length === 0 ? undefined : `countries ${facts.targetCountries.join(', ')}`,
    facts.targetDevices.length === 0 ? undefined : `devices ${facts.targetDevices.join(', ')}`,
  ].filter((part) => part !== undefined);
  // No targeting and still not eligible: it was paused or changed during the window.
  return parts.length === 0
    ? 'its status (active only part of the window, or its ads changed)'
    : `its targeting (${parts.join('; ')})`;
}

function capText(facts: CampaignFacts): string {
  const cap = facts.frequencyCap;
  if (cap === null) return 'a frequency cap';
  return `its frequency cap (${count(cap.max, 'serve')} per user per ${cap.windowHours} h)`;
}

function duration(minutes: number): string {
  if (minutes % 60 === 0) return minutes === 60 ? 'hour' : `${minutes / 60} hours`;
  return minutes === 1 ? 'minute' : `${minutes} minutes`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

/** Micro-USD as dollars and cents (floored: $9.999 spent is not yet $10.00). */
function amount(micros: number): string {
  return `$${(Math.floor(micros / 10_000) / 100).toFixed(2)}`;
}

function calendarDay(epochMs: number, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(epochMs);
}

function clockTime(epochMs: number, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(epochMs);
}
