/**
 * The session modes the editor offers come from one definition beside SESSION_MODES (the wire
 * names): Session → Create's Mode and the Kallglot Webhook Trigger's Session Modes filter.
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { Kallglot } from '../../nodes/Kallglot/Kallglot.node';
import { KallglotWebhookTrigger } from '../../nodes/KallglotWebhookTrigger/KallglotWebhookTrigger.node';
import { SESSION_MODES } from '../../nodes/shared/wire';

const EXPECTED = [
	['bidirectional_translation', 'Bidirectional Translation'],
	['assistive_translation', 'Assistive Translation'],
	['ai_agent', 'AI Agent'],
	['help_chat_voice', 'Help Chat Voice'],
];

function find(properties: INodeProperties[], name: string): INodeProperties | undefined {
	for (const p of properties) {
		if (p.name === name) return p;
		const nested = (p.options ?? []).filter((o): o is INodeProperties => 'type' in o && 'displayName' in o);
		const hit = find(nested, name);
		if (hit) return hit;
	}
	return undefined;
}
const pairs = (p: INodeProperties | undefined) => ((p?.options ?? []) as INodePropertyOptions[]).map((o) => [o.value, o.name]);

test('Session → Create lists every wire mode, in SESSION_MODES order, with a description each', () => {
	const mode = new Kallglot().description.properties.find((p) => p.name === 'mode' && p.displayOptions?.show?.operation?.includes('create'));
	expect(pairs(mode)).toEqual(EXPECTED);
	expect((mode?.options as INodePropertyOptions[]).every((o) => typeof o.description === 'string' && o.description.length > 0)).toBe(true);
	expect(SESSION_MODES).toContain(mode?.default);
});

test('the webhook trigger’s Session Modes filter lists the same modes with the same names, sorted by name', () => {
	const modes = find(new KallglotWebhookTrigger().description.properties, 'modes');
	expect(modes?.type).toBe('multiOptions');
	expect(pairs(modes)).toEqual([...EXPECTED].sort((a, b) => a[1].localeCompare(b[1])));
	expect(new Set(pairs(modes).map(([value]) => value))).toEqual(new Set(SESSION_MODES));
});
