/**
 * Kallglot's cursor pagination, once: pages are asked for after the last ID of the one before
 * while `has_more` is true, until the limit (Return All: none) or the bound on pages. No n8n import.
 */

export interface Page<T> {
	items: T[];
	/** The cursor of the page after this one; undefined when this was the last. */
	next?: string;
}

export interface PaginateOptions {
	/** The most items returned (Return All: Infinity). */
	limit: number;
	/** The most one page may hold; each page asks for no more than what is still wanted. */
	maxPageSize: number;
	maxPages: number;
}

/** The cursor after a page: its last ID when Kallglot says more follow (absent `has_more`: this was the only page). */
export function nextCursor(data: ReadonlyArray<{ id: string }>, hasMore: boolean | null | undefined): string | undefined {
	const last = data[data.length - 1];
	return hasMore === true && last ? last.id : undefined;
}

/** Every item up to `limit`, following the cursor page by page. */
export async function paginate<T>(
	fetchPage: (cursor: string | undefined, pageSize: number) => Promise<Page<T>>,
	{ limit, maxPageSize, maxPages }: PaginateOptions,
): Promise<T[]> {
	const items: T[] = [];
	let cursor: string | undefined;
	for (let page = 0; page < maxPages && items.length < limit; page++) {
		const fetched = await fetchPage(cursor, Math.min(maxPageSize, limit - items.length));
		items.push(...fetched.items);
		cursor = fetched.next;
		if (cursor === undefined) break;
	}
	return items.slice(0, limit);
}
