import { MAX_TRACKING_TOKEN_LENGTH } from '@adfunnel/tracking';
import { z } from 'zod';

/** Body of `POST /v1/events/conversion`: the advertiser reports a conversion for one of our clicks. */
export const ConversionPostbackSchema = z.strictObject({
  t: z
    .string()
    .min(1)
    .max(MAX_TRACKING_TOKEN_LENGTH)
    .describe('The token of the click URL that led to the conversion'),
});
export type ConversionPostback = z.infer<typeof ConversionPostbackSchema>;

export interface ConversionAccepted {
  accepted: true;
  eventId: string;
}
