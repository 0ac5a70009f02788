import type { BidType, Pacing } from '@adfunnel/contracts';
import { HOUR_MS, type LocalDay, type TrafficCurve, targetSpend } from '@adfunnel/pacing';

/** One campaign's simulated day, from the ledger. */
export interface CampaignDay {
  readonly campaignId: number;
  readonly bidType: BidType;
  readonly pacing: Pacing;
  readonly budgetMicros: number;
  readonly chargedMicros: number;
  readonly overdeliveredMicros: number;
  /** Charged micros and billable events per hour of the campaign's day. */
  readonly hourlyMicros: readonly number[];
  readonly hourlyEvents: readonly number[];
  /** Its budget is below what it would have spent unthrottled (set so by the run). */
  readonly budgetLimited: boolean;
}

export interface Distribution {
  readonly n: number;
  readonly min: number;
  readonly p10: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

export interface PacingGroup {
  readonly campaigns: number;
  /** Charged spend / daily budget at the end of the day. */
  readonly finalRatio: Distribution | null;
  readonly endedWithinTarget: number;
  /** Hour ends at which the day's spend so far is within the tolerance of the target curve. */
  readonly curveWithinTolerance: number | null;
  /** Campaign-hours whose own spend is within the tolerance of the target curve's increment over the hour. */
  readonly hoursWithinTolerance: number | null;
  /** The same share if spend followed the target exactly but billable events arrived as a Poisson process. */
  readonly poissonFloor: number | null;
  /** Share of each campaign's hours within the tolerance. */
  readonly hoursWithinByCampaign: Distribution | null;
  readonly meanEventsPerHour: number | null;
}

export interface PacingDayReport {
  readonly day: string;
  readonly tolerance: number;
  readonly finalRatioTarget: readonly [number, number];
  /** Campaign-days charged past their budget (the published bound: must be 0). */
  readonly overspend: { readonly campaignDays: number; readonly micros: number };
  /** Delivered past the budget and recorded, not billed. */
  readonly overdeliveredMicros: number;
  readonly evenLimited: PacingGroup;
  readonly evenLimitedByBidType: Readonly<Record<BidType, PacingGroup>>;
  /**
   * Split at DENSE_CHARGES_PER_HOUR: below it an hour's spend is a handful of charges, and Poisson
   * noise alone keeps most hours outside the tolerance, whatever the controller does.
   */
  readonly evenLimitedDense: PacingGroup;
  readonly evenLimitedSparse: PacingGroup;
  readonly denseChargesPerHour: number;
  readonly asapLimited: PacingGroup;
  readonly notLimited: PacingGroup;
}

const FINAL_RATIO_TARGET = [0.95, 1] as const;
/** About what hourly tracking within ±20% in 80% of hours needs when charges come at random. */
export const DENSE_CHARGES_PER_HOUR = 40;

/**
 * Per budget-limited campaign: final spend / budget, and each hour's spend against the target
 * curve's increment for that hour (budget x the hour's share of the day's expected traffic).
 */
export function pacingDayReport(
  campaigns: readonly CampaignDay[],
  curve: TrafficCurve,
  day: LocalDay,
  tolerance = 0.2,
): PacingDayReport {
  const targets = (campaign: CampaignDay) =>
    campaign.hourlyMicros.map(
      (_, h) =>
        targetSpend(campaign.budgetMicros, curve, day, day.startMs + (h + 1) * HOUR_MS) -
        targetSpend(campaign.budgetMicros, curve, day, day.startMs + h * HOUR_MS),
    );
  const group = (members: readonly CampaignDay[]): PacingGroup => {
    if (members.length === 0) {
      return {
        campaigns: 0,
        finalRatio: null,
        endedWithinTarget: 0,
        curveWithinTolerance: null,
        hoursWithinTolerance: null,
        poissonFloor: null,
        hoursWithinByCampaign: null,
        meanEventsPerHour: null,
      };
    }
    const ratios = members.map((c) => c.chargedMicros / c.budgetMicros);
    let hours = 0;
    let within = 0;
    let onCurve = 0;
    let floor = 0;
    let events = 0;
    const perCampaign: number[] = [];
    for (const campaign of members) {
      const target = targets(campaign);
      const dayEvents = campaign.hourlyEvents.reduce((a, b) => a + b, 0);
      let campaignWithin = 0;
      let spent = 0;
      let targeted = 0;
      target.forEach((t, h) => {
        if (Math.abs(campaign.hourlyMicros[h] - t) <= tolerance * t) campaignWithin++;
        floor += poissonWithin(dayEvents * (t / campaign.budgetMicros), tolerance);
        spent += campaign.hourlyMicros[h];
        targeted += t;
        if (Math.abs(spent - targeted) <= tolerance * targeted) onCurve++;
      });
      hours += target.length;
      within += campaignWithin;
      events += dayEvents;
      perCampaign.push(campaignWithin / target.length);
    }
    return {
      campaigns: members.length,
      finalRatio: distribution(ratios),
      endedWithinTarget: ratios.filter((r) => r >= FINAL_RATIO_TARGET[0] && r <= FINAL_RATIO_TARGET[1])
        .length,
      curveWithinTolerance: onCurve / hours,
      hoursWithinTolerance: within / hours,
      poissonFloor: floor / hours,
      hoursWithinByCampaign: distribution(perCampaign),
      meanEventsPerHour: events / hours,
    };
  };
  const limited = campaigns.filter((c) => c.budgetLimited);
  const even = limited.filter((c) => c.pacing === 'even');
  const over = campaigns.filter((c) => c.chargedMicros > c.budgetMicros);
  const dense = (c: CampaignDay) =>
    c.hourlyEvents.reduce((a, b) => a + b, 0) / c.hourlyEvents.length >= DENSE_CHARGES_PER_HOUR;
  return {
    day: day.day,
    tolerance,
    finalRatioTarget: FINAL_RATIO_TARGET,
    overspend: {
      campaignDays: over.length,
      micros: over.reduce((sum, c) => sum + c.chargedMicros - c.budgetMicros, 0),
    },
    overdeliveredMicros: campaigns.reduce((sum, c) => sum + c.overdeliveredMicros, 0),
    evenLimited: group(even),
    evenLimitedByBidType: {
      CPM: group(even.filter((c) => c.bidType === 'CPM')),
      CPC: group(even.filter((c) => c.bidType === 'CPC')),
      CPA: group(even.filter((c) => c.bidType === 'CPA')),
    },
    evenLimitedDense: group(even.filter(dense)),
    evenLimitedSparse: group(even.filter((c) => !dense(c))),
    denseChargesPerHour: DENSE_CHARGES_PER_HOUR,
    asapLimited: group(limited.filter((c) => c.pacing === 'asap')),
    notLimited: group(campaigns.filter((c) => !c.budgetLimited)),
  };
}

/** Quantiles with linear interpolation between order statistics. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) throw new RangeError('a distribution needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
  };
  return {
    n: sorted.length,
    min: sorted[0],
    p10: at(0.1),
    median: at(0.5),
    p90: at(0.9),
    max: sorted[sorted.length - 1],
  };
}

/** P(|N - m| <= tolerance x m) for N ~ Poisson(m): how often an hour of m expected events lands within it. */
export function poissonWithin(mean: number, tolerance: number): number {
  if (!(mean > 0)) return 1;
  const low = Math.ceil(mean * (1 - tolerance) - 1e-9);
  const high = Math.floor(mean * (1 + tolerance) + 1e-9);
  let logPmf = -mean;
  let k = 0;
  let within = 0;
  for (; k < low; k++) logPmf += Math.log(mean) - Math.log(k + 1);
  for (; k <= high; k++) {
    within += Math.exp(logPmf);
    logPmf += Math.log(mean) - Math.log(k + 1);
  }
  return Math.min(1, within);
}
