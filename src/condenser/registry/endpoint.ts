/** Where a registry is reached. docker.io's API lives on another host; plain http may be used
 * only for a registry on this machine (127.0.0.0/8, ::1, localhost), as docker does, or one
 * the user named insecure (the client tries https first). Every other registry is https. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export function isLoopbackHost(domain: string): boolean {
  const host = hostOf(domain);
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon >= 0 ? domain.slice(0, colon) : domain;
}

/** Named by the user as insecure: any certificate, or plain http. */
export function isInsecure(domain: string, insecure: readonly string[] = []): boolean {
  return insecure.includes(domain) || insecure.includes(hostOf(domain));
}

export function registryBaseUrl(domain: string, insecure: readonly string[] = []): string {
  const host = domain === 'docker.io' ? DOCKER_HUB_API : domain;
  const plain = isLoopbackHost(domain) || isInsecure(domain, insecure);
  return `${plain ? 'http' : 'https'}://${host}`;
}
