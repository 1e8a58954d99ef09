/**
 * `tds gateway`: run the provider's download gateway in the foreground until
 * SIGINT/SIGTERM. Here --key is the TLS private key (like openssl and nginx);
 * the gateway needs no participant credentials.
 */
import { startGateway } from './gateway.js';
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
  synopsis: '--dir DIR --cert PEM --key PEM [--port 8443] [--host 0.0.0.0] [--provider ID] [--ca PEM]',
  summary: 'serve DIR to holders of valid release tokens',
  options: { dir: { type: 'string' }, cert: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, provider: { type: 'string' }, ca: { type: 'string' } },
  run: async ({ p, io, settings }) => {
    const gw = await startGateway({
      dir: requireOption(p, 'dir'),
      cert: requireOption(p, 'cert'),
      key: requireOption(p, 'key'),
      serviceUrl: settings.serviceUrl,
      port: portOption(p, 'port', 8443),
      host: stringOption(p, 'host') ?? '0.0.0.0',
      providerId: stringOption(p, 'provider'),
      issuer: settings.audience,
      ca: stringOption(p, 'ca'),
    });
    io.err(`gateway serving ${stringOption(p, 'dir')} on ${gw.url} (Ctrl-C to stop)`);
    await waitForSignal();
    await gw.close();
    return 0;
  },
};
