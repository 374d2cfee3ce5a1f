import { describe, expect, it } from 'vitest';
import { isFailing, isGhost, isMaster, isReplica, parseClusterNodes, parseInfo } from '../../src/cluster/cluster-nodes.js';

const TEXT = [
  '07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,node-4.example slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected',
  '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922',
  '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 1426238316232 1426238316232 3 disconnected 10923-16383',
  '6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave,fail? 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected',
  'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1] [93-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]',
  'abcdef0000000000000000000000000000000000 :0@0 master,noaddr - 0 0 0 disconnected',
  '1234560000000000000000000000000000000000 127.0.0.1:30009@31009 handshake - 0 0 0 connected',
  '',
].join('\n');

describe('parseClusterNodes', () => {
  const lines = parseClusterNodes(TEXT);
  it('parses every line', () => expect(lines).toHaveLength(7));

  it('parses addresses, bus ports and hostnames', () => {
    expect(lines[0]).toMatchObject({ host: '127.0.0.1', port: 30004, busPort: 31004, hostname: 'node-4.example' });
    expect(lines[1]).toMatchObject({ host: '127.0.0.1', port: 30002, busPort: 31002, hostname: undefined });
  });

  it('parses roles, masters and slots', () => {
    expect(isReplica(lines[0]!)).toBe(true);
    expect(lines[0]!.masterId).toBe('e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca');
    expect(isMaster(lines[1]!)).toBe(true);
    expect(lines[1]!.masterId).toBeUndefined();
    expect(lines[1]!.slots).toEqual([{ start: 5461, end: 10922 }]);
  });

  it('parses migrating and importing markers of myself', () => {
    const me = lines[4]!;
    expect(me.flags).toContain('myself');
    expect(me.slots).toEqual([{ start: 0, end: 5460 }]);
    expect(me.migrating).toEqual([{ slot: 5461, to: '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1' }]);
    expect(me.importing).toEqual([{ slot: 93, from: '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f' }]);
  });

  it('recognises fail, pfail, noaddr and handshake', () => {
    expect(isFailing(lines[2]!)).toBe(true);
    expect(lines[2]!.linkState).toBe('disconnected');
    expect(isFailing(lines[3]!)).toBe(true);
    expect(isGhost(lines[5]!)).toBe(true);
    expect(lines[5]!.host).toBe('');
    expect(isGhost(lines[6]!)).toBe(true);
  });

  it('parses IPv6 addresses', () => {
    const [l] = parseClusterNodes('e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca ::1:30001@31001 myself,master - 0 0 1 connected 0-10');
    expect(l).toMatchObject({ host: '::1', port: 30001, busPort: 31001 });
  });

  it('rejects garbage with a parse error', () => {
    expect(() => parseClusterNodes('not a cluster nodes line')).toThrow();
    expect(() => parseClusterNodes('a 127.0.0.1:1@2 master - 0 0 1 connected 99999')).toThrow(/slot/);
  });
});

describe('parseInfo', () => {
  it('reads key:value lines and skips sections', () => {
    expect(parseInfo('# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n')).toEqual({ role: 'slave', master_link_status: 'up' });
  });
});
