import { z } from 'zod';
import { UserIdSchema } from './ad-request.dto.js';

/** Most events one `POST /v1/activity` may carry. */
export const MAX_ACTIVITY_EVENTS = 100;

const EventIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .describe("The surface's id of the event; an id already folded for the user counts nothing");

const AtSchema = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe('Epoch ms it happened; default: when it arrives');

/**
 * One thing the user did on the product itself, off the ads: engaged with (saved, liked, clicked) an
 * organic item of a category, or searched. `id` is the surface's own id of the event: a report sent
 * twice (a retry) counts each event once.
 */
export const OrganicEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('engagement').describe('The user saved, liked or clicked an organic item'),
    id: EventIdSchema,
    category: z
      .string()
      .min(1)
      .max(64)
      .describe("The item's category, one of the taxonomy's (as an ad's category)"),
    at: AtSchema,
  }),
  z.strictObject({
    type: z.literal('search').describe('The user searched the product (an organic search)'),
    id: EventIdSchema,
    query: z.string().min(1).max(256).describe('What the user searched for'),
    at: AtSchema,
  }),
]);
export type OrganicEvent = z.infer<typeof OrganicEventSchema>;

/** Body of `POST /v1/activity`: a product surface reporting what a user did on it. */
export const ActivityReportSchema = z.strictObject({
  userId: UserIdSchema,
  events: z.array(OrganicEventSchema).min(1).max(MAX_ACTIVITY_EVENTS),
});
export type ActivityReport = z.infer<typeof ActivityReportSchema>;

/** Answer of `POST /v1/activity`: every event of the report was either folded or already there. */
export const ActivityReportAnswerSchema = z.strictObject({
  /** Events folded into the user's state by this report. */
  folded: z.number().int().min(0),
  /** Events whose id the user's state already had (a retried report): counted once, before. */
  duplicates: z.number().int().min(0),
});
export type ActivityReportAnswer = z.infer<typeof ActivityReportAnswerSchema>;
