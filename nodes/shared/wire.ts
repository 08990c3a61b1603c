/**
 * Kallglot's wire format: every JSON name and header that crosses the network, by domain under
 * wire/. Import from here ('nodes/shared/wire'); the domain files are the place to edit:
 *
 *   wire/http.ts         the one `headers` map, key scopes, the error envelope (paths: api/endpoints.ts)
 *   wire/session.ts      modes, Create Session and Dial (input and body), the session object
 *   wire/agents.ts       the agent list
 *   wire/transcript.ts   translations, the transcript
 *   wire/recordings.ts   recordings and their download
 *   wire/analyses.ts     analyses
 *   wire/webhooks.ts     webhook event types, signature scheme, envelope
 *   wire/stream.ts       stream frames, in one table
 *   wire/values.ts       value rules the domains share (not re-exported)
 *
 * [ours] marks a name Kallglot has not published: the project's choice, kept here so that a
 * correction is one edit. Nothing here imports n8n, so the stream client can use it too.
 */
export * from './wire/http';
export * from './wire/session';
export * from './wire/agents';
export * from './wire/transcript';
export * from './wire/recordings';
export * from './wire/analyses';
export * from './wire/webhooks';
export * from './wire/stream';
