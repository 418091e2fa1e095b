// A loopback stand-in for AWS STS AssumeRole: the documented Query-protocol contract (POST form
// `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…&ExternalId=…&DurationSeconds=…`,
// XML answers). A role is assumable only with the external id its trust policy names, as the
// customer's real trust policy would require; every call is recorded (with the key that signed it).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AssumeRoleCall {
  roleArn: string | null;
  externalId: string | null;
  sessionName: string | null;
  durationSeconds: number | null;
  /** The access key id in the request's SigV4 Authorization header (who called STS). */
  signedBy: string | undefined;
  status: number;
}

export interface StsServer {
  url: string;
  calls: AssumeRoleCall[];
  close(): Promise<void>;
}

export interface TrustedRole {
  roleArn: string;
  externalId: string;
  /** The credentials handed out for this role. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const xmlns = 'https://sts.amazonaws.com/doc/2011-06-15/';

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomBytes(8).toString('hex') });
  res.end(xml);
}

function denied(res: ServerResponse, message: string): void {
  send(res, 403, `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`);
}

export async function startStsServer(roles: readonly TrustedRole[]): Promise<StsServer> {
  const calls: AssumeRoleCall[] = [];
  const handle = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const form = new URLSearchParams(body);
    const call: AssumeRoleCall = {
      roleArn: form.get('RoleArn'),
      externalId: form.get('ExternalId'),
      sessionName: form.get('RoleSessionName'),
      durationSeconds: form.has('DurationSeconds') ? Number(form.get('DurationSeconds')) : null,
      signedBy: /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1],
      status: 200,
    };
    calls.push(call);
    if (req.method !== 'POST' || form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      call.status = 400;
      return send(res, 400, `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not AssumeRole</Message></Error></ErrorResponse>`);
    }
    const role = roles.find((r) => r.roleArn === call.roleArn);
    if (!role || role.externalId !== call.externalId || call.signedBy === undefined) {
      call.status = 403;
      return denied(res, `User is not authorized to perform: sts:AssumeRole on resource: ${call.roleArn ?? '(none)'}`);
    }
    const expiration = new Date(Date.now() + (call.durationSeconds ?? 3_600) * 1000).toISOString();
    send(
      res,
      200,
      `<AssumeRoleResponse xmlns="${xmlns}"><AssumeRoleResult><Credentials>` +
        `<AccessKeyId>${role.credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${role.credentials.secretAccessKey}</SecretAccessKey>` +
        `<SessionToken>session-${randomBytes(12).toString('hex')}</SessionToken><Expiration>${expiration}</Expiration>` +
        `</Credentials><AssumedRoleUser><AssumedRoleId>AROATEST:${call.sessionName ?? ''}</AssumedRoleId>` +
        `<Arn>${(call.roleArn ?? '').replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${call.sessionName ?? ''}</Arn></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handle(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
