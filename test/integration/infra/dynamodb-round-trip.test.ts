import test from 'ava';
import { ConditionalCheckFailedException, CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { testDynamo, uniq } from '../../helpers/infra.js';

test('DynamoDB Local creates a table, rejects a stale conditional write and answers a query', async (t) => {
  const client = testDynamo();
  t.teardown(() => client.destroy());
  const TableName = uniq('roundtrip');
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  t.teardown(() => client.send(new DeleteTableCommand({ TableName })).then(() => undefined));
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName });
  const doc = DynamoDBDocumentClient.from(client);

  await doc.send(new PutCommand({ TableName, Item: { pk: 'i1', sk: 'checkpoint', offset: 100 } }));
  // Advance only forward: the condition is the fencing that keeps a checkpoint from regressing.
  const advance = (offset: number) =>
    doc.send(
      new UpdateCommand({
        TableName,
        Key: { pk: 'i1', sk: 'checkpoint' },
        UpdateExpression: 'SET #o = :o',
        ConditionExpression: '#o < :o',
        ExpressionAttributeNames: { '#o': 'offset' },
        ExpressionAttributeValues: { ':o': offset },
      }),
    );
  await advance(150);
  await t.throwsAsync(advance(120), { instanceOf: ConditionalCheckFailedException });
  await doc.send(new PutCommand({ TableName, Item: { pk: 'i1', sk: 'history#1', node: 'n1' } }));

  const res = await doc.send(
    new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'i1' } }),
  );
  t.is(res.Items?.length, 2);
  t.is(res.Items?.find((i) => i.sk === 'checkpoint')?.offset, 150);
});
