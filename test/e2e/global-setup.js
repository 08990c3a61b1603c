// Runs once before the e2e suite: builds nothing (the orchestrator runs `npm run build`), but
// fails clearly when dist/ is missing; installs the n8n under test (first time only, minutes)
// so that does not count against a test's timeout; checks PostgreSQL and Redis for queue mode.
const { assertDistBuilt, checkQueueServices, e2eInstallOptions } = require('../../scripts/n8n/harness');
const { ensureN8n } = require('../../scripts/n8n/install');

module.exports = async function globalSetup() {
  assertDistBuilt();
  const opts = e2eInstallOptions();
  const t0 = Date.now();
  const install = await ensureN8n(opts);
  process.env.E2E_N8N_INSTALL = JSON.stringify(install);
  process.stderr.write(`\n[e2e] n8n ${install.version} on Node ${install.nodeMajor} (${install.root}); ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const services = await checkQueueServices();
  process.env.E2E_QUEUE_SERVICES = JSON.stringify(services);
  if (!services.ok) process.stderr.write(`[e2e] queue mode: ${services.problems.join('; ')}\n`);
};
