import type { INodePropertyOptions } from 'n8n-workflow';

/** Common language codes; any other code can be entered as an expression. */
const COMMON_LANGUAGES: Array<[string, string]> = [
	['Arabic', 'ar'], ['Bengali', 'bn'], ['Chinese', 'zh'], ['Czech', 'cs'], ['Danish', 'da'],
	['Dutch', 'nl'], ['English', 'en'], ['Finnish', 'fi'], ['French', 'fr'], ['German', 'de'],
	['Greek', 'el'], ['Hebrew', 'he'], ['Hindi', 'hi'], ['Hungarian', 'hu'], ['Indonesian', 'id'],
	['Italian', 'it'], ['Japanese', 'ja'], ['Korean', 'ko'], ['Malay', 'ms'], ['Norwegian', 'no'],
	['Polish', 'pl'], ['Portuguese', 'pt'], ['Portuguese (Brazil)', 'pt-BR'], ['Romanian', 'ro'],
	['Russian', 'ru'], ['Spanish', 'es'], ['Swedish', 'sv'], ['Thai', 'th'], ['Turkish', 'tr'],
	['Ukrainian', 'uk'], ['Urdu', 'ur'], ['Vietnamese', 'vi'],
];

export const AUTO_DETECT = '';

export const languageOptions: INodePropertyOptions[] = [
	{ name: 'Auto-Detect', value: AUTO_DETECT, description: 'Let Kallglot detect the language' },
	...COMMON_LANGUAGES.map(([name, value]) => ({ name: `${name} (${value})`, value })),
];
