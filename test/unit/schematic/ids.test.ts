/**
 * IDs published outside this project (Talos docs, upstream unit/integration tests, public repos;
 * image-factory.md §1.6–§1.7) must come out of our decoder + serializer.
 */
import { describe, expect, it } from 'vitest';
import { canonicalYaml, decodeSchematic, schematicId } from '../../../src/schematic/index.js';

const id = (yaml: string) => schematicId(decodeSchematic(yaml));

describe('published schematic IDs', () => {
  it('Talos docs (a): gvisor + intel-ucode + net.ifnames=0 → b8e8fbbe…', () => {
    const yaml = `customization:
  extraKernelArgs:
    - net.ifnames=0
  systemExtensions:
    officialExtensions:
      - siderolabs/gvisor
      - siderolabs/intel-ucode
`;
    expect(id(yaml)).toBe('b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176');
  });

  it('Talos docs (c): gvisor → d9ff8977…', () => {
    expect(id('customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/gvisor]\n')).toBe(
      'd9ff89777e246792e7642abd3220a616afb4e49822382e4213a2e528ab826fe5',
    );
  });

  it('Talos docs (b): rpi_generic + iscsi-tools gives today\'s f47e6cd2634c…, not the pre-release 0db665ed…', () => {
    const yaml = `overlay:
  image: siderolabs/sbc-raspberrypi
  name: rpi_generic
customization:
  systemExtensions:
    officialExtensions:
      - siderolabs/iscsi-tools
`;
    const s = decodeSchematic(yaml);
    expect(canonicalYaml(s)).toBe(
      'overlay:\n    image: siderolabs/sbc-raspberrypi\n    name: rpi_generic\ncustomization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/iscsi-tools\n',
    );
    expect(schematicId(s)).toBe('f47e6cd2634c7a96988861031bcc4144468a1e3aef82cca4f5b5ca3fffef778a');
    // Field order in the input does not matter (the pre-release order gave 0db665ed…).
    const reordered = `customization:
  systemExtensions:
    officialExtensions:
      - siderolabs/iscsi-tools
overlay:
  name: rpi_generic
  image: siderolabs/sbc-raspberrypi
`;
    expect(id(reordered)).toBe('f47e6cd2634c7a96988861031bcc4144468a1e3aef82cca4f5b5ca3fffef778a');
  });

  it('the empty schematic in every spelling → 376567988ad3…', () => {
    for (const input of ['{}', 'customization: {}', 'null', '---\n', 'customization:\n  extraKernelArgs: []\n', 'overlay: {options: {}}']) {
      expect(id(input), input).toBe('376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba');
    }
    expect(canonicalYaml(decodeSchematic('{}'))).toBe('customization: {}\n');
  });

  const table: [string, string, string][] = [
    ['qemu-guest-agent', 'customization: {systemExtensions: {officialExtensions: [siderolabs/qemu-guest-agent]}}', 'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515'],
    ['noapic nolapic (upstream unit test)', 'customization: {extraKernelArgs: [noapic, nolapic]}', '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c'],
    ['nolapic nomodeset (integration test)', 'customization: {extraKernelArgs: [nolapic, nomodeset]}', 'e0fb1129bbbdfb5d002e94af4cdce712a8370e850950a33a242d4c3f178c532d'],
    ['amd-ucode gvisor gasket-driver', 'customization: {systemExtensions: {officialExtensions: [siderolabs/amd-ucode, siderolabs/gvisor, siderolabs/gasket-driver]}}', '51ff3e49313773332729a5c04e57af0dbe2e6d3f65ff638e6d4c3a05065fefff'],
    ['META 0xa JSON', `customization: {meta: [{key: 0xa, value: '{"externalIPs":["1.2.3.4"]}'}]}`, 'fe866116408a5a13dab7d5003eb57a00954ea81ebeec3fbbcd1a6d4462a00036'],
    ['iscsi-tools', 'customization: {systemExtensions: {officialExtensions: [siderolabs/iscsi-tools]}}', 'c9078f9419961640c712a8bf2bb9174933dfcf1da383fd8ea2b7dc21493f8bac'],
    ['iscsi-tools qemu-guest-agent', 'customization: {systemExtensions: {officialExtensions: [siderolabs/iscsi-tools, siderolabs/qemu-guest-agent]}}', 'dc7b152cb3ea99b821fcb7340ce7168313ce393d663740b791c36f6e95fc8586'],
    ['gvisor intel-ucode iscsi-tools', 'customization: {systemExtensions: {officialExtensions: [siderolabs/gvisor, siderolabs/intel-ucode, siderolabs/iscsi-tools]}}', 'b879cae68366c21e706bb4f1ee0f15fda6d8be38375ae144cb9978b9df0e3caf'],
    ['iscsi-tools util-linux-tools', 'customization: {systemExtensions: {officialExtensions: [siderolabs/iscsi-tools, siderolabs/util-linux-tools]}}', '613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245'],
    ['vga=791 (docs/api.md example, today\'s ID)', 'customization:\n  extraKernelArgs:\n    - vga=791\n', 'eea1f9534c46d95c4715a2f13d17eacb927c13a42ef087c79b22c3bd0c49d073'],
  ];
  for (const [name, yaml, want] of table) {
    it(name, () => expect(id(yaml)).toBe(want));
  }

  it('upstream unit-test IDs whose middle the spec elides', () => {
    const cases: [string, string, string][] = [
      ['customization: {meta: [{key: 10, value: foo}]}', 'd308a2a5', '9a7f'],
      ['overlay: {name: rpi_generic, image: siderolabs/sbc-raspberrypi}', 'ee21ef4a', 'a1f9'],
      ['customization: {secureboot: {includeWellKnownCertificates: true}}', 'fa8e05f1', 'f3e6'],
      ['customization: {diskImage: {sectorSize: 4096}}', '92833e9d', 'd1ea'],
    ];
    for (const [yaml, head, tail] of cases) {
      const got = id(yaml);
      expect(got.startsWith(head) && got.endsWith(tail), `${yaml} → ${got}`).toBe(true);
    }
  });

  it('enrollKeys: off hashes as "off" (legacy) or \'off\' (rc6 option), §1.6', () => {
    const s = decodeSchematic('customization:\n  secureboot:\n    enrollKeys: off\n');
    expect(s.customization.secureboot?.enrollKeys).toBe('off');
    expect(canonicalYaml(s)).toBe('customization:\n    secureboot:\n        enrollKeys: "off"\n');
    expect(schematicId(s)).toBe('27e859ebfe0bd0bb6c9a53595770359cbafaa9fc7ef0059c046435c91e0db8c4');
    expect(canonicalYaml(s, { quoting: 'rc6' })).toBe("customization:\n    secureboot:\n        enrollKeys: 'off'\n");
    expect(schematicId(s, { quoting: 'rc6' })).toBe('d8f665fc030589c746e0948aacb3f6009984ffe16082f5f286cfa0ce6213cdfe');
  });

  it('the API does not normalize: list order and duplicates change the ID', () => {
    const a = id('customization: {systemExtensions: {officialExtensions: [siderolabs/iscsi-tools, siderolabs/qemu-guest-agent]}}');
    const b = id('customization: {systemExtensions: {officialExtensions: [siderolabs/qemu-guest-agent, siderolabs/iscsi-tools]}}');
    const c = id('customization: {systemExtensions: {officialExtensions: [siderolabs/iscsi-tools, siderolabs/iscsi-tools]}}');
    expect(b).toBe('6ebbfe35c8225645c05d4d19eaad385bd1ec795954932d0ada671388272fec19');
    expect(new Set([a, b, c]).size).toBe(3);
  });
});
