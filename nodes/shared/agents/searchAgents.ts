import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { fetchAgentPage } from './pages';

/**
 * Agents for the Agent picker. Kallglot has no server-side search, so the filter matches names
 * and IDs within each page; the cursor lets the list load more as the user scrolls.
 */
export async function searchAgents(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const page = await fetchAgentPage.call(this, 100, paginationToken);
	const needle = filter?.trim().toLowerCase();
	const matches = needle
		? page.agents.filter((a) => `${a.name ?? ''} ${a.id}`.toLowerCase().includes(needle))
		: page.agents;
	return {
		results: matches.map((agent) => ({ name: agent.name ? `${agent.name} (${agent.id})` : agent.id, value: agent.id })),
		paginationToken: page.next,
	};
}
