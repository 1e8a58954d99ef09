/**
 * The rule for distribution URLs: https only, and never a loopback, private,
 * link-local or otherwise internal address, unless development mode allows
 * them (local trials and tests). Pure: it looks at the URL text only; the
 * bytes are checked against sha256 and byteSize by whoever fetches them.
 */
import net from 'node:net';

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) blocked.addSubnet(addr, prefix, 'ipv6');

const INTERNAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.(localhost|local|internal|home\.arpa)$/i;

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
  const family = net.isIP(host);
  if (family === 4 && blocked.check(host, 'ipv4')) return `address ${host} is loopback, private or link-local`;
  if (family === 6) {
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) hides an IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
    if (mapped && blocked.check(mapped[1]!, 'ipv4')) return `address ${host} is loopback, private or link-local`;
    if (/^::ffff:/i.test(host) && !mapped) return `address ${host} is an IPv4-mapped address`;
    if (blocked.check(host, 'ipv6')) return `address ${host} is loopback, private or link-local`;
  }
  if (family === 0) {
    if (INTERNAL_NAMES.test(host)) return `host ${host} is a local name`;
    if (!host.includes('.')) return `host ${host} is not a fully qualified name`;
    // Numeric forms the URL parser did not normalise (e.g. 0x7f.1) are refused outright.
    if (/^[0-9.x]+$/i.test(host)) return `host ${host} is not a valid public name`;
  }
  return null;
}
