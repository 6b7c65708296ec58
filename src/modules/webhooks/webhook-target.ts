import ipaddr from 'ipaddr.js';
import { type RequestFilteringAgentOptions, RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * The address check at creation: a URL whose host is an IP literal outside public unicast
 * (loopback, private, link-local, the metadata address, IPv4-mapped forms of them…) is refused.
 * ipaddr.js is what request-filtering-agent classifies connected addresses with, so both checks
 * agree. Host names pass here: what they resolve to is checked at every delivery, by the agent.
 */
export function forbiddenLiteralTarget(url: URL, allowPrivateTargets: boolean): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(host)) return false;
  const range = ipaddr.parse(host).range();
  // The unspecified address (0.0.0.0, ::) reaches this host whatever the flag: never a target.
  return range === 'unspecified' || (!allowPrivateTargets && range !== 'unicast');
}

/** Agents that refuse, after DNS resolution and at connect time, what forbiddenLiteralTarget would. */
export function filteringAgents(allowPrivateTargets: boolean) {
  const options: RequestFilteringAgentOptions = { allowPrivateIPAddress: allowPrivateTargets, allowMetaIPAddress: false };
  // No keep-alive: each delivery resolves and checks its target afresh.
  const http = new RequestFilteringHttpAgent({ ...options, keepAlive: false });
  const https = new RequestFilteringHttpsAgent({ ...options, keepAlive: false });
  return {
    forUrl: (url: URL) => (url.protocol === 'https:' ? https : http),
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}
export type FilteringAgents = ReturnType<typeof filteringAgents>;
