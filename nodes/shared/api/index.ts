export { KallglotApi, type BinaryResponse, type CallOptions, type ItemOf, type KallglotApiOptions, type ResponseOf } from './client';
export { ENDPOINTS, type EndpointName } from './endpoints';
export { codeGuidance, stoppedError } from './errors';
export { paginate, type Page } from './paginate';
export { RETRY, type RetryPolicy, type RetryPolicyName } from './retry';
export { CREDENTIAL_NAME, type KallglotContext } from './transport';
