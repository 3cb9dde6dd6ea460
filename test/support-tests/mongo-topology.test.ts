/** The test server's `topology` option: the driver sees what a real replica set primary or mongos would show it. */
import mongoose from 'mongoose';
import { startMongoTestServer } from '../support/mongo-server';

test.each([
  ['standalone', 'Single', 'Standalone'],
  ['replicaSet', 'ReplicaSetWithPrimary', 'RSPrimary'],
  ['sharded', 'Sharded', 'Mongos'],
] as const)('%s: the driver sees a %s topology whose server is a %s', async (topology, topologyType, serverType) => {
  const server = await startMongoTestServer({ topology });
  const client = new mongoose.mongo.MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    const description = (client as unknown as { topology: { description: { type: string; servers: Map<string, { type: string }> } } }).topology.description;
    expect(description.type).toBe(topologyType);
    expect([...description.servers.values()].map((s) => s.type)).toEqual([serverType]);
    if (topology === 'replicaSet') {
      expect(hello).toMatchObject({
        setName: 'rs0',
        isWritablePrimary: true,
        secondary: false,
        primary: `127.0.0.1:${server.port}`,
        me: `127.0.0.1:${server.port}`,
      });
      expect(hello.hosts).toEqual([`127.0.0.1:${server.port}`]);
    }
    if (topology === 'sharded') expect(hello.msg).toBe('isdbgrid');
    if (topology === 'standalone') expect(hello).not.toHaveProperty('setName');
  } finally {
    await client.close();
    await server.close();
  }
});
