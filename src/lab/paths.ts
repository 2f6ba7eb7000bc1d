// Where the lab keeps what it builds: outside the repository, shared by every checkout on the machine.
import path from 'node:path';

const cacheRoot = process.env.INSTALL_GLANCE_CACHE ?? '/var/cache/install-glance';
const stateRoot = process.env.INSTALL_GLANCE_STATE ?? '/var/lib/install-glance';

export const paths = {
  snapshots: path.join(cacheRoot, 'snapshots'),
  snapshot: (release: string, key: string) => path.join(cacheRoot, 'snapshots', `${release}-${key}`),
  labs: path.join(stateRoot, 'labs'),
  lab: (name: string) => path.join(stateRoot, 'labs', name),
  clientKey: path.join(stateRoot, 'lab-client', 'id_ed25519'),
  knownHosts: path.join(stateRoot, 'lab-client', 'known_hosts'),
  // Machine-wide, whatever the state and cache roots: locks guard what every root shares (the snapshot
  // cache, lab addresses, veth names, iptables chains), so two roots must not hold them at once.
  locks: '/run/install-glance/locks',
};
