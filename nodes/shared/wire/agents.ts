/** Agents on the wire: Agent → Get Many's input, the list query and the page we read. */
import { z } from 'zod';

import { compact } from './values';

export const agentLimit = z.object({ limit: z.number().int('must be a whole number').min(1, 'must be at least 1') });

export const agentListQuery = (limit: number, startingAfter?: string) =>
	compact({ limit, starting_after: startingAfter }) as Record<string, string | number>;

export const agentListResponse = z
	.object({
		data: z.array(
			z.object({ id: z.string(), name: z.string().nullish(), description: z.string().nullish() }).passthrough(),
		),
		has_more: z.boolean(),
	})
	.passthrough();
