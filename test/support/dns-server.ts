import { AddressInfo } from 'node:net';
import dns2 from 'dns2';

const { Packet } = dns2;

export interface Zone {
  [name: string]: {
    CNAME?: string;
    MX?: { priority: number; exchange: string }[];
    TXT?: string[][];
    /** An error answer instead of records: 2 SERVFAIL, 5 REFUSED. */
    RCODE?: number;
  };
}

export interface TestDnsServer {
  /** "127.0.0.1:PORT", for --resolver. */
  readonly address: string;
  readonly zone: Zone;
  close(): Promise<void>;
}

/**
 * A real DNS server on 127.0.0.1 (UDP) answering from `zone`, which tests may change between
 * queries. Unknown names get NXDOMAIN, known names without the asked type an empty answer.
 */
export async function startDnsServer(zone: Zone): Promise<TestDnsServer> {
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = question.name.toLowerCase().replace(/\.$/, '');
      const entry = zone[name];
      if (!entry || entry.RCODE !== undefined) {
        response.header.rcode = entry?.RCODE ?? 3; // NXDOMAIN
        send(response);
        return;
      }
      const base = { name: question.name, class: Packet.CLASS.IN, ttl: 300 };
      // dns2 encodes plain record objects; its typings only describe parsed ones.
      const answers = response.answers as unknown as Record<string, unknown>[];
      if (question.type === Packet.TYPE.CNAME && entry.CNAME) {
        answers.push({ ...base, type: Packet.TYPE.CNAME, domain: entry.CNAME });
      } else if (question.type === Packet.TYPE.MX) {
        for (const mx of entry.MX ?? []) answers.push({ ...base, type: Packet.TYPE.MX, ...mx });
      } else if (question.type === Packet.TYPE.TXT) {
        for (const chunks of entry.TXT ?? []) answers.push({ ...base, type: Packet.TYPE.TXT, data: chunks });
      }
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const { port } = server.addresses().udp as AddressInfo;
  return { address: `127.0.0.1:${port}`, zone, close: () => server.close() };
}
