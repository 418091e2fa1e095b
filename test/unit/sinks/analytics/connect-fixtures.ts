// The CONNECT_API.md §4 examples, as EventRecords, for the analytics mapping and builder tests.
import type { EventRecord } from '../../../../src/sinks/types.js';

export const connectExamples = {
  PUSH_BODY: '{"id":"ef4ffe00-874d-4589-9401-6a34c43dd342","type":"PUSH_BODY","offset":"0","occurred":"2016-06-06T19:03:30.189Z","processed":"2016-06-06T19:03:30.189Z","device":{"ios_channel":"f6b36ef3-3271-40c2-a7a4-efb17d9a512f"},"body":{"payload":"aGk=","push_id":"5cc00974-ebab-480a-9324-06f8d8fc2ae4","trimmed":true}}',
  TAG_CHANGE: '{"id":"00000152-4639-25e7-024b-457f821dd465","offset":"103187","occurred":"2016-01-15T16:58:16.423Z","processed":"2016-01-15T16:58:20.145Z","device":{"android_channel":"8f830618-b8ae-4949-a1bd-fbb13055b92f","named_user_id":"willis"},"body":{"add":{"device":["I_like_horses"]},"current":{"device":["I_like_horses"]}},"type":"TAG_CHANGE"}',
  SCREEN_VIEWED: '{"id":"a8c66fc6-210c-11e6-a195-90e2ba211bf8","offset":"463726","occurred":"2016-05-23T17:34:40.525Z","processed":"2016-05-23T17:34:55.492Z","device":{"android_channel":"aa218218-aad4-4a0c-bc6e-7ad6f9507a44","named_user_id":"david","identifiers":{"com.urbanairship.aaid":"c1250591-a94b-4d56-a3ef-5f7550c3756d","session_id":"0dc71d74-59ab-4734-b88b-85f69a7e1b83"},"attributes":{"app_version":"373","device_model":"Nexus 6P","ua_sdk_version":"7.0.1"}},"body":{"duration":5788,"viewed_screen":"MessageActivity","previous_screen":"MainActivity","session_id":"738b476c-0986-4169-a4eb-fc9be7d0c486"},"type":"SCREEN_VIEWED"}',
  IN_APP_MESSAGE_EXPIRATION: '{"id":"4bc01a60-1df6-11e6-a2e4-90e2ba025ad8","offset":"443577","occurred":"2016-04-29T22:04:16.413Z","processed":"2016-05-19T19:17:17.606Z","device":{"ios_channel":"e339783b-c710-4395-b7ba-5fd3a6a67746","named_user_id":"bear"},"body":{"push_id":"b91a7f6a-100c-459f-aa38-97616e10a799","triggering_push":{"push_id":"b91a7f6a-100c-459f-aa38-97616e10a799"},"session_id":"f96e104f-889a-41b8-976a-3f9d6f7fb1d5","type":"EXPIRED"},"type":"IN_APP_MESSAGE_EXPIRATION"}',
  IN_APP_MESSAGE_RESOLUTION: '{"id":"d1599dd2-2dc4-11e6-9a45-90e2ba02f390","offset":"512149","occurred":"2016-06-08T22:03:17.418Z","processed":"2016-06-08T22:03:24.823Z","device":{"android_channel":"3a8e2cd0-81b2-4559-a559-67eaae7f3c12","named_user_id":"dj"},"body":{"push_id":"0e9c711a-bf9d-4b2c-8309-2c5b9e3a5d69","group_id":"0e9c711a-bf9d-4b2c-8309-2c5b9e3a5d69","variant_id":"0","session_id":"e65e56a0-8e32-4d26-bba4-43541fff0ec5","type":"USER_DISMISSED","duration":1470},"type":"IN_APP_MESSAGE_RESOLUTION"}',
  ATTRIBUTE_OPERATION: '{"id":"00000173-bb88-8804-b6ec-a40f4ae36648","offset":"1000059326194","occurred":"2020-08-04T22:12:33.924Z","processed":"2020-08-04T22:12:37.672Z","device":{"channel":"5a1b7f7e-6d3f-4a43-9b2e-0a3c9d1c2e11","device_type":"WEB"},"body":{"set":[{"key":"loyalty_tier","value":"gold"}],"remove":[{"key":"trial"}]},"type":"ATTRIBUTE_OPERATION"}',
  SEND: '{"id":"719af843-923f-e9df-3cc9-2c8d0a3d87e1","type":"SEND","offset":"2","occurred":"2015-05-27T11:32:08.921Z","processed":"2015-05-27T11:32:08.921Z","device":{"amazon_channel":"d3287498-fbfe-48b6-b83f-16da6357352f"},"body":{"push_id":"4f0ec3af-4d3f-7530-718b-063175239b83"}}',
  OPEN: '{"id":"5f6248b6-4ef0-a8f1-343a-6d60daf6e447","type":"OPEN","offset":"0","occurred":"2015-05-27T11:32:08.197Z","processed":"2015-05-27T11:32:08.197Z","device":{"ios_channel":"2918fcc9-66dc-4c18-8905-c882ba2fd011"},"body":{"last_delivered":{"push_id":"0392c335-c655-b0f0-2685-32244920ff41"},"triggering_push":{"push_id":"757d58f7-7a47-5d01-70d2-c943b762df0c"},"session_id":"1bdf568f-77e6-5414-5c95-3734fc8204d4"}}',
  UNINSTALL: '{"id":"546170af-b914-1198-5a11-6bc8e58bcd74","type":"UNINSTALL","offset":"11","occurred":"2015-05-27T11:32:10.213Z","processed":"2015-05-27T11:32:10.213Z","device":{"amazon_channel":"bf439e26-11d7-4625-8e24-673c9cc0836b"}}',
  LOCATION: '{"id":"5736b14f-ed2a-28ff-0987-c073823afc83","type":"LOCATION","offset":"29","occurred":"2015-05-27T11:32:10.873Z","processed":"2015-05-27T11:32:10.873Z","device":{"android_channel":"b3ac221e-9a92-413a-bc7e-9be18bc56f27"},"body":{"latitude":"0.5030746732390502","longitude":"0.6883776032931083","foreground":true,"session_id":"5d5599c5-ebdb-63ea-7f18-984626a849fe"}}',
  CUSTOM: '{"id":"3f1c2a9e-8d4b-4c7e-9a1f-2b3c4d5e6f70","type":"CUSTOM","offset":"777","occurred":"2024-05-01T12:00:00.000Z","processed":"2024-05-01T12:00:01.000Z","device":{"ios_channel":"9c0ffee0-1111-2222-3333-444455556666","named_user_id":"ada","attributes":{"app_version":"5.2.0","device_model":"iPhone15,2","device_os":"17.4","carrier":"Acme","locale_language_code":"en","locale_country_code":"US","iana_timezone":"Europe/London"}},"user":{"contact_id":"c-123"},"body":{"name":"purchase","value":12345678901234567890,"interaction_type":"ua_mcrap","interaction_id":"home","session_id":"s-1","properties":{"sku":"A-1","price":9.99,"tags":["x","y"]}}}',
} as const;

export type ExampleType = keyof typeof connectExamples;

export function exampleRecord(type: ExampleType): EventRecord {
  const text = connectExamples[type];
  const e = JSON.parse(text) as { id: string; type: string; offset: string; occurred: string; processed: string };
  return {
    integrationId: 'int-1',
    eventId: e.id,
    connectOffset: e.offset,
    type: e.type,
    occurred: e.occurred,
    processed: e.processed,
    ingestedAt: e.processed,
    correlationId: 'corr-1',
    value: Buffer.from(text),
    key: null,
    partition: 0,
    offset: '0',
  };
}
