/**
 * Which network addresses a dataset may live at: never loopback, private,
 * link-local, site-local, multicast, reserved or cloud-metadata addresses,
 * including IPv6 forms that embed such an IPv4 address (IPv4-mapped and
 * -compatible, 6to4, NAT64, Teredo). One rule for the service (the URL text
 * at publish time) and for `tds job run` (every address the host resolves
 * to, and the address actually connected to), because a name can resolve to
 * anything later.
 */
import net from 'node:net';

// Two lists: node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules, which would block them all.
const blocked4 = new net.BlockList();
const blocked6 = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked4.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  // unspecified, loopback and IPv4-compatible (::a.b.c.d, e.g. ::7f00:1), IPv4-mapped, discard, Teredo
  ['::', 96], ['::ffff:0:0', 96], ['100::', 64], ['2001::', 32],
  // 6to4 (embeds an IPv4 address), NAT64 well-known and local-use prefixes, unique local, site-local, link-local, multicast
  ['2002::', 16], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['fc00::', 7], ['fec0::', 10], ['fe80::', 10], ['ff00::', 8],
] as const) blocked6.addSubnet(addr, prefix, 'ipv6');

const INTERNAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback|metadata)$|\.(localhost|local|internal|home\.arpa|intranet|lan|corp)$/i;

/** Why an IP address is not a public destination, or null when it is. */
export function addressProblem(address: string): string | null {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) return `address ${address} carries a zone (link-local)`;
  const family = net.isIP(a);
  if (family === 4) return blocked4.check(a, 'ipv4') ? `address ${a} is loopback, private, link-local or reserved` : null;
  if (family === 6) {
    // IPv4-mapped (::ffff:a.b.c.d) is judged by the IPv4 address it carries: public ones are still refused,
    // because a literal mapped form in a URL has no legitimate use.
    if (blocked6.check(a, 'ipv6')) return `address ${a} is loopback, private, link-local, reserved or embeds an IPv4 address`;
    return null;
  }
  return `${address} is not an IP address`;
}

/** Why a host name (not an IP literal) is refused outright, or null: local names, single labels, numeric tricks. */
export function hostNameProblem(hostname: string): string | null {
  // A trailing dot makes a name absolute ("localhost." is localhost): judge it without.
  const host = hostname.replace(/\.+$/, '');
  if (host === '') return `host ${hostname} is empty`;
  if (INTERNAL_NAMES.test(host)) return `host ${hostname} is a local name`;
  if (!host.includes('.')) return `host ${hostname} is not a fully qualified name`;
  // Numeric forms the URL parser did not normalise (e.g. 0x7f.1) are refused outright.
  if (host.split('.').every((l) => /^(0x[0-9a-f]*|[0-9]+)$/i.test(l))) return `host ${hostname} is not a valid public name`;
  return null;
}
