import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The signing secret of a Kallglot webhook endpoint. Kallglot has no API that could confirm a
 * secret, so the node's credential test checks its form (see KallglotWebhookTrigger's
 * credentialTest); the first signed delivery proves it.
 */
export class KallglotWebhookApi implements ICredentialType {
	name = 'kallglotWebhookApi';

	displayName = 'Kallglot Webhook API';

	documentationUrl = 'https://docs.kallglot.com/webhooks';

	icon = { light: 'file:kallglot.svg', dark: 'file:kallglot.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Signing Secret',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The signing secret of your webhook endpoint, shown in the Kallglot developer portal where you added the endpoint',
		},
		{
			displayName: 'Previous Signing Secret',
			name: 'previousSigningSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'While you rotate the secret in the portal: the old one, still accepted. Clear it once every delivery uses the new secret.',
		},
	];
}
