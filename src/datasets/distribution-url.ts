/**
 * The rule for distribution URLs: https only, and never a loopback, private,
 * link-local or otherwise internal address, unless development mode allows
 * them (local trials and tests). Pure: it looks at the URL text only; the
 * bytes are checked against sha256 and byteSize by whoever fetches them.
 */
import net from 'node:net';
import { addressProblem, hostNameProblem } from '../net/address-policy.js';

/** Why a URL is refused, or null when it is acceptable. */
export function distributionUrlProblem(raw: string, devMode: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed';
  if (url.protocol !== 'https:' && !(devMode && url.protocol === 'http:')) return 'the distribution must be served over https';
  if (devMode) return null;
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // The same policy `tds job run` applies to the addresses it resolves and connects to.
  return net.isIP(host) ? addressProblem(host) : hostNameProblem(host);
}
