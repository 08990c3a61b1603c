import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { KallglotApi } from '../api';
import { systemClock } from '../clock';

/**
 * Agents for the Agent picker. Kallglot has no server-side search, so the filter matches names
 * and IDs within each page; the cursor lets the list load more as the user scrolls.
 */
export async function searchAgents(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const api = new KallglotApi(this, { clock: systemClock });
	const page = await api.page('listAgents', [], { cursor: paginationToken, pageSize: 100 });
	const needle = filter?.trim().toLowerCase();
	const matches = needle ? page.items.filter((a) => `${a.name ?? ''} ${a.id}`.toLowerCase().includes(needle)) : page.items;
	return {
		results: matches.map((agent) => ({ name: agent.name ? `${agent.name} (${agent.id})` : agent.id, value: agent.id })),
		paginationToken: page.next,
	};
}
