/** A Slack webhook config node's target: its URL, the secret. */
import { httpUrlProblem, unsetEnvReference } from '../../config/env';
import type { Target, TargetProblem } from '../../delivery/service';

/** Why a Slack webhook URL cannot be used, or undefined when it can. */
export function webhookProblem(url: string | undefined): string | undefined {
  if (!url || url.trim() === '') return 'no webhook URL is set in the config node';
  const env = unsetEnvReference(url);
  if (env) return `environment variable ${env} is not set`;
  return httpUrlProblem(url, 'webhook URL');
}

/** The target of a webhook URL credential. */
export function webhookTarget(url: string | undefined): Target | TargetProblem {
  const problem = webhookProblem(url);
  return problem ? { problem } : { url: url!.trim() };
}
