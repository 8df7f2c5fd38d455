import type { Resources } from '../../oci/resources.js';

/** rdma.max lines, the same on v1 and v2: "DEVICE hca_handle=N hca_object=M". */
export function rdmaLines(r: Resources): string[] {
  return Object.entries(r.rdma).map(([dev, l]) =>
    [dev, l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : '']
      .filter(Boolean)
      .join(' '),
  );
}
