import type { IDataObject } from 'n8n-workflow';

import { kallglotApiRequest, type KallglotContext } from '../transport';
import { agentListQuery, agentListResponse, paths } from '../wire';

export type Agent = IDataObject & { id: string; name?: string | null };

/** One page of GET /v1/agents; `next` is the cursor for the page after it. */
export async function fetchAgentPage(
	this: KallglotContext,
	limit: number,
	startingAfter?: string,
	itemIndex?: number,
): Promise<{ agents: Agent[]; next?: string }> {
	const body = await kallglotApiRequest.call(this, {
		method: 'GET',
		path: paths.agents,
		qs: agentListQuery(limit, startingAfter),
		itemIndex,
	});
	const page = agentListResponse.parse(body);
	const agents = page.data as Agent[];
	const last = agents[agents.length - 1];
	return { agents, next: page.has_more && last ? last.id : undefined };
}
