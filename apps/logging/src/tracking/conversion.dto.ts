import { EVENT_ID_LENGTH } from '@adfunnel/tracking';
import { z } from 'zod';

const CLICK_ID = new RegExp(`^[0-9a-f]{${EVENT_ID_LENGTH}}$`);
/** The advertiser's own order or lead id is shown back in its reports and logs: no control characters. */
const printable = (s: string) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Body of `POST /v1/conversions`: the advertiser reports that a click of ours converted. */
export const ConversionRequestSchema = z.strictObject({
  clickId: z
    .string()
    .regex(CLICK_ID, `must be the ${EVENT_ID_LENGTH} lower-case hex characters of adf_click_id`)
    .describe('The adf_click_id the click appended to the landing URL'),
  conversionId: z
    .string()
    .min(1)
    .max(128)
    .refine(printable, 'must not contain control characters')
    .describe("The advertiser's own id of the conversion (order id); a repeat is counted once"),
  occurredAt: z
    .union([
      z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
      z.iso.datetime({ offset: true }).transform((iso) => Date.parse(iso)),
    ])
    .optional()
    .describe('When the conversion happened: epoch ms or ISO 8601; default: when it is received'),
});
export type ConversionRequest = z.output<typeof ConversionRequestSchema>;

export interface ConversionAccepted {
  accepted: true;
  eventId: string;
  /** True when this advertiser already reported this conversionId: it is counted once. */
  duplicate: boolean;
}
