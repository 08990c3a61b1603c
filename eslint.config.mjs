/**
 * `npm run lint` = `eslint .` (what `n8n-node lint` runs): n8n's rules for community packages on
 * the whole repository; nodes/, credentials/ and package.json get every rule, the tools around
 * them (test/, bench/, scripts/, sandbox/) the exceptions stated at the end.
 *  - @n8n/eslint-plugin-community-nodes, its `recommended` config (the one `@n8n/node-cli lint`
 *    uses by default, with n8n Cloud's checks), with ESLint's and typescript-eslint's recommended
 *    rules and no-console, as in node-cli's config;
 *  - eslint-plugin-n8n-nodes-base's community, credentials and nodes rule sets, with node-cli's
 *    exceptions to them.
 * The exceptions below are the package's stated ones (README, Compatibility): a live WebSocket
 * needs `ws` and timers, so the package is for self-hosted n8n only.
 */
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const community = n8nCommunityNodesPlugin.configs.recommended;

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', '**/*.js'] },
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, tseslint.configs.recommended, community],
		rules: {
			'prefer-spread': 'off',
			'no-console': 'error',
		},
	},
	{ plugins: { 'n8n-nodes-base': n8nNodesBase } },
	{
		files: ['package.json'],
		extends: [community],
		rules: {
			...n8nNodesBase.configs.community.rules,
			// `ws` is a runtime dependency by design (the Kallglot Trigger's stream client), and
			// zod beside it; n8n Cloud's verified nodes may have none, this package is self-hosted only.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
		languageOptions: {
			parser: tseslint.parser,
			parserOptions: { extraFileExtensions: ['.json'] },
		},
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// The rule wants n8n's internal docs slug (camelCase); a community package links to the
			// service's own documentation, which is a full URL.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// These older rules want the string 'main'; the community rule
			// node-connection-type-literal wants NodeConnectionTypes.Main.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},
	{
		// A live stream needs timers: keepalive pings, the silence watchdog, reconnect backoff and
		// close timeouts (stream client); the batch window, the next-session retry and the end
		// timeout (listener); the cap on waiting for one execution (flow). They all run on an
		// injected Clock, and this file is the one place the timer globals are touched.
		// n8n-workflow's sleep and sleepWithAbort are no watchdog re-armed per frame. Stated
		// exception: this keeps the package off n8n Cloud's verified list.
		files: ['nodes/shared/clock.ts'],
		rules: { '@n8n/community-nodes/no-restricted-globals': 'off' },
	},
	{
		// The listener is plain TypeScript without n8n imports and takes its own error type: this
		// adapter reduces n8n's errors to SessionApiError (status + message), and passes aborts on.
		// They never leave node code as they are: the listener turns them into ListenerStartError
		// or emitError's NodeOperationError, and the trigger node wraps what start() throws.
		files: ['nodes/KallglotTrigger/sessionApi.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// The webhook trigger's Redis event memory (queue mode with several webhook processes) speaks
		// RESP over its own socket (n8n's Redis client is not reachable from a community package) and
		// gives every command a deadline, so a Redis that does not answer fails the delivery (Kallglot
		// retries it) instead of holding it. Stated exception: self-hosted only, like the stream.
		files: ['nodes/shared/webhook/resp.ts'],
		rules: {
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/no-restricted-globals': 'off',
		},
	},
	{
		// Kallglot has no API for webhook endpoints (they are configured in Kallglot's
		// developer portal), so checkExists/create/delete cannot be implemented; the node shows its
		// URL and tells the user to paste it in the portal.
		files: ['nodes/KallglotWebhookTrigger/KallglotWebhookTrigger.node.ts'],
		rules: { '@n8n/community-nodes/webhook-lifecycle-complete': 'off' },
	},
	{
		// Tools around the package, never loaded by n8n: tests, benchmarks, scripts, and the sandbox
		// (Kallglot's stand-in, shipped only as the kallglot-sandbox CLI). n8n's community-node rules
		// below govern code n8n runs (n8n Cloud: no timers, no Node built-ins, no child processes,
		// n8n's error types, secrets in credentials); these tools need servers, sockets, processes
		// and timers to do their job, throw their own errors, and carry fake keys and secrets as test
		// fixtures (the sandbox's, never a real one).
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'sandbox/**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			// `_name` marks a value left out on purpose (a destructured field dropped, an unused parameter).
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
		},
	},
	{
		// Tests and tools read JSON from HTTP answers and n8n's internals, whose shapes they assert
		// rather than declare.
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
		rules: { '@typescript-eslint/no-explicit-any': 'off' },
	},
	{
		// Command-line tools: what they print is their output. The e2e suite reports progress of
		// minutes-long runs (n8n start-up, installs) the same way. Test fixtures run as child
		// processes that report to the test on their standard output.
		files: ['bench/**/*.ts', 'scripts/**/*.ts', 'sandbox/cli.ts', 'test/e2e/**/*.ts', 'test/**/fixtures/**/*.ts'],
		rules: { 'no-console': 'off' },
	},
);
