import { describe, expect, it } from 'vitest';
import { filterTalosVersions, parseExtensionCatalog, parseOverlayCatalog } from '../../../src/factory/index.js';
import { versionTag } from '../../../src/factory/catalog.js';
import { parseTalosVersion } from '../../../src/profile/version.js';

const v = (s: string) => parseTalosVersion(s)!;
const list = (tags: string[], min = '1.2.0', broken: string[] = []) => filterTalosVersions(tags, v(min), broken.map(v)).map(versionTag);

describe('version list (image-factory.md §5.1)', () => {
  it('keeps versions ≥ minimum, drops non-versions and broken ones, sorts ascending', () => {
    expect(list(['v1.11.0', 'latest', 'v1.1.9', 'v1.2.0', 'sha256-abc.sig', 'v1.10.3', '1.9.0', 'v1.9.1'], '1.2.0', ['1.9.1'])).toEqual(['v1.2.0', 'v1.9.0', 'v1.10.3', 'v1.11.0']);
  });

  it('pre-releases only of the highest major.minor, only alpha|beta|rc.<n>', () => {
    const tags = ['v1.13.0', 'v1.13.0-rc.1', 'v1.14.0-alpha.0', 'v1.14.0-rc.1', 'v1.14.0-beta.2', 'v1.14.0-custom', 'v1.14.0-rc.x', 'v1.14.0-rc.1.2', 'v1.14.0-pre.1'];
    expect(list(tags)).toEqual(['v1.13.0', 'v1.14.0-alpha.0', 'v1.14.0-beta.2', 'v1.14.0-rc.1']);
  });

  it('lists a version tagged twice once, and nothing for no tags', () => {
    expect(list(['v1.11.0', '1.11.0', 'v1.11'])).toEqual(['v1.11.0']);
    expect(list([])).toEqual([]);
  });
});

describe('extension catalog (image-digests + descriptions.yaml, §5.2)', () => {
  const digests = [
    'ghcr.io/siderolabs/amd-ucode:20230804@sha256:761a',
    '  ghcr.io/siderolabs/gvisor:20231214.0@sha256:b0b1  ',
    'no-at-sign-line',
    '',
    'ghcr.io/siderolabs/hello-world-service:v1.5.0@sha256:c0c1',
  ].join('\n');
  const descriptions = `ghcr.io/siderolabs/gvisor:20231214.0@sha256:b0b1:\n  author: Sidero Labs\n  description: gVisor\nghcr.io/siderolabs/amd-ucode:20230804@sha256:761a:\n  author: 7\n`;

  it('names by repository path, ref on the configured registry, descriptions by full line, file order', () => {
    expect(parseExtensionCatalog(digests, descriptions, '127.0.0.1:5000', 'x')).toEqual([
      { name: 'siderolabs/amd-ucode', ref: '127.0.0.1:5000/siderolabs/amd-ucode:20230804', digest: 'sha256:761a', author: '', description: '' },
      { name: 'siderolabs/gvisor', ref: '127.0.0.1:5000/siderolabs/gvisor:20231214.0', digest: 'sha256:b0b1', author: 'Sidero Labs', description: 'gVisor' },
      { name: 'siderolabs/hello-world-service', ref: '127.0.0.1:5000/siderolabs/hello-world-service:v1.5.0', digest: 'sha256:c0c1', author: '', description: '' },
    ]);
    expect(parseExtensionCatalog(digests, undefined, 'ghcr.io', 'x')).toHaveLength(3);
  });

  it('refuses a bad reference or a descriptions file that is not a mapping', () => {
    expect(() => parseExtensionCatalog('ghcr.io/Bad Ref:1@sha256:00\n', undefined, 'r', 'ext:v1')).toThrow(/ext:v1: failed to parse tagged reference ghcr\.io\/Bad Ref:1/);
    expect(() => parseExtensionCatalog(digests, '- a\n', 'r', 'ext:v1')).toThrow(/descriptions\.yaml is not a mapping/);
    expect(() => parseExtensionCatalog(digests, 'a: [\n', 'r', 'ext:v1')).toThrow(/error reading descriptions\.yaml/);
  });
});

describe('overlay catalog (overlays.yaml, §5.3)', () => {
  it('image is the repository path, ref as written', () => {
    const yaml = 'overlays:\n  - name: rpi_generic\n    image: ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0\n    digest: sha256:aa\n  - name: rock64\n    image: ghcr.io/siderolabs/sbc-rockchip:v0.1.0\n    digest: sha256:bb\n';
    expect(parseOverlayCatalog(yaml, 'o')).toEqual([
      { name: 'rpi_generic', image: 'siderolabs/sbc-raspberrypi', ref: 'ghcr.io/siderolabs/sbc-raspberrypi:v0.1.0', digest: 'sha256:aa' },
      { name: 'rock64', image: 'siderolabs/sbc-rockchip', ref: 'ghcr.io/siderolabs/sbc-rockchip:v0.1.0', digest: 'sha256:bb' },
    ]);
    expect(parseOverlayCatalog('{}\n', 'o')).toEqual([]);
    expect(() => parseOverlayCatalog('overlays: 3\n', 'o')).toThrow(/not a list/);
  });
});
