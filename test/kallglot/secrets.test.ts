import { KallglotSandbox } from '../../sandbox';
import { runKallglotNode } from '../helpers/engine';

let sandbox: KallglotSandbox;
beforeAll(async () => {
	sandbox = await KallglotSandbox.start({ credits: 1 });
});
afterAll(async () => {
	await sandbox.close();
});

test('the API key appears in no output item and no error, whatever the outcome', async () => {
	const credentials = { apiKey: sandbox.apiKey, baseUrl: sandbox.baseUrl };
	const runs = [
		await runKallglotNode({ parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' }, credentials }),
		// credits exhausted now: 402
		await runKallglotNode({ parameters: { resource: 'session', operation: 'create', mode: 'bidirectional_translation' }, credentials }),
		await runKallglotNode({ parameters: { resource: 'session', operation: 'get', sessionId: 'sess_NOPE' }, credentials, continueOnFail: true }),
		await runKallglotNode({ parameters: { resource: 'agent', operation: 'getMany', returnAll: true }, credentials }),
	];
	sandbox.injectFault({ path: '/v1/agents', drop: true, times: 10 });
	runs.push(await runKallglotNode({ parameters: { resource: 'agent', operation: 'getMany', returnAll: true }, credentials }));

	expect(runs[1].error?.message).toMatch(/402/);
	expect(runs[4].error?.message).toMatch(/Could not reach Kallglot/);
	for (const run of runs) {
		const everything = JSON.stringify({ items: run.items, error: run.error, message: run.error?.message, description: run.error?.description, stack: run.error?.stack, runData: run.run.data });
		expect(everything).not.toContain(sandbox.apiKey);
	}
});
