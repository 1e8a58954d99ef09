/**
 * `tds gateway`: run the provider's download gateway in the foreground until
 * SIGINT/SIGTERM. Here --key is the TLS private key (like openssl and nginx);
 * --credentials is the provider's participant key file, with which the
 * gateway asks the service whether each release still stands. It refuses to
 * start without --provider (whose files it serves) matching those credentials.
 */
import { startGateway } from '../gateway/gateway.js';
import { readCredentials } from '../client/credentials.js';
import { portOption, requireOption, stringOption, type CommandSpec } from './cli-args.js';

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** `tds gateway`. */
export const gatewayCommand: CommandSpec = {
  name: 'gateway',
  synopsis: '--dir DIR --cert PEM --key PEM --provider ID --credentials FILE [--state DIR] [--port 8443] [--host 0.0.0.0] [--ca PEM]',
  summary: 'serve DIR to holders of valid release tokens',
  options: { dir: { type: 'string' }, cert: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, provider: { type: 'string' }, credentials: { type: 'string' }, state: { type: 'string' }, ca: { type: 'string' } },
  run: async ({ p, io, settings }) => {
    const providerId = requireOption(p, 'provider');
    const credentials = await readCredentials(requireOption(p, 'credentials'), io);
    const gw = await startGateway({
      dir: requireOption(p, 'dir'),
      cert: requireOption(p, 'cert'),
      key: requireOption(p, 'key'),
      serviceUrl: settings.serviceUrl,
      port: portOption(p, 'port', 8443),
      host: stringOption(p, 'host') ?? '0.0.0.0',
      providerId,
      credentials,
      stateDir: stringOption(p, 'state'),
      issuer: settings.audience,
      ca: stringOption(p, 'ca'),
    });
    io.err(`gateway serving ${stringOption(p, 'dir')} on ${gw.url} (Ctrl-C to stop)`);
    await waitForSignal();
    await gw.close();
    return 0;
  },
};
