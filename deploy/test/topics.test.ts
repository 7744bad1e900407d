import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPIC_PARTITIONS, topicSpecs } from '@divoc/contracts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, readRepoFile, renderKustomize, run, tempDir } from './support.js';

const TOPICS_FILE = 'deploy/k8s/base/files/topics.txt';
const SCRIPT = join(REPO_ROOT, 'deploy/k8s/base/files/create-topics.sh');

const listedTopics = (): { topic: string; partitions: number }[] =>
  readRepoFile(TOPICS_FILE)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [topic, partitions] = line.split(/\s+/);
      return { topic: topic ?? '', partitions: Number(partitions) };
    });

/**
 * A stand-in for kafka-topics.sh: keeps topics as files (name → partition count) in its state directory and
 * logs every call, answering --create, --describe and --alter like the real tool.
 */
const fakeKafkaTopics = (existing: Record<string, number> = {}): { command: string; log: string; state: string } => {
  const dir = tempDir('kafka-topics');
  const state = join(dir, 'state');
  const log = join(dir, 'calls.log');
  const command = join(dir, 'kafka-topics.sh');
  writeFileSync(
    command,
    `#!/usr/bin/env bash
set -eu
echo "$*" >> ${JSON.stringify(log)}
mkdir -p ${JSON.stringify(state)}
topic='' partitions='' action=''
while [ $# -gt 0 ]; do
  case "$1" in
    --topic) topic=$2; shift ;;
    --partitions) partitions=$2; shift ;;
    --create|--describe|--alter) action=$1 ;;
  esac
  shift
done
file=${JSON.stringify(state)}/"$topic"
case "$action" in
  --create) if [ ! -f "$file" ]; then echo "$partitions" > "$file"; echo "Created topic $topic."; fi ;;
  --alter) echo "$partitions" > "$file" ;;
  --describe) printf 'Topic: %s\\tTopicId: x\\tPartitionCount: %s\\tReplicationFactor: 1\\tConfigs:\\n' "$topic" "$(cat "$file")"
              printf '\\tTopic: %s\\tPartition: 0\\tLeader: 1\\n' "$topic" ;;
esac
`,
  );
  chmodSync(command, 0o755);
  for (const [topic, partitions] of Object.entries(existing)) {
    run('mkdir', ['-p', state]);
    writeFileSync(join(state, topic), `${partitions}\n`);
  }
  return { command, log, state };
};

describe('Kafka topics', () => {
  it('the deployed topic list equals topicSpecs() of @divoc/contracts', () => {
    expect(listedTopics()).toEqual(topicSpecs());
    expect(listedTopics().find((spec) => spec.topic === 'certify')?.partitions).toBe(TOPIC_PARTITIONS.certify);
  });

  it('docker-compose, the Kubernetes Job and Ansible all use that list and create-topics.sh', () => {
    const compose = parse(readRepoFile('docker-compose.yml'));
    const init = compose.services['init-topics'];
    expect(init.volumes).toContain('./deploy/k8s/base/files:/divoc:ro');
    expect(init.entrypoint).toEqual(['/bin/sh', '/divoc/create-topics.sh']);

    const objects = renderKustomize('deploy/k8s/overlays/prod');
    const topicsMap = objects.find(
      (object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('divoc-kafka-topics'),
    );
    expect(topicsMap?.data['topics.txt']).toBe(readRepoFile(TOPICS_FILE));
    expect(topicsMap?.data['create-topics.sh']).toBe(readFileSync(SCRIPT, 'utf8'));
    const job = objects.find((object) => object.kind === 'Job' && object.metadata.name === 'divoc-kafka-topics');
    const container = job?.spec.template.spec.containers[0];
    expect(container.command).toEqual(['/bin/sh', '/divoc/create-topics.sh']);
    expect(job?.spec.template.spec.volumes).toContainEqual({
      name: 'topics',
      configMap: { name: topicsMap?.metadata.name },
    });

    const ansible = readRepoFile('deploy/ansible/roles/kafka/tasks/topics.yml');
    expect(ansible).toContain('k8s/base/files/{{ item.name }}');
    expect(ansible).toContain('create-topics.sh');
  });

  it('create-topics.sh creates every topic with its partitions, prefix, replication and min ISR', () => {
    const kafka = fakeKafkaTopics();
    const result = run('sh', [SCRIPT], {
      env: {
        ...process.env,
        KAFKA_BOOTSTRAP: 'broker-1:9092',
        KAFKA_TOPIC_PREFIX: 'prod.',
        KAFKA_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_TOPICS_CMD: kafka.command,
      },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const calls = readFileSync(kafka.log, 'utf8').trim().split('\n');
    for (const { topic, partitions } of topicSpecs()) {
      expect(calls).toContain(
        `--bootstrap-server broker-1:9092 --create --if-not-exists --topic prod.${topic} --partitions ${partitions} ` +
          '--replication-factor 3 --config min.insync.replicas=2',
      );
      expect(readFileSync(join(kafka.state, `prod.${topic}`), 'utf8').trim()).toBe(String(partitions));
      expect(result.stdout).toContain(`prod.${topic} ok (${partitions} partitions, ${partitions} wanted)`);
    }
  });

  it('is idempotent, and refuses a topic with fewer partitions unless told to add them', () => {
    const kafka = fakeKafkaTopics({ certify: 4, notify: 6 });
    const env = { ...process.env, KAFKA_BOOTSTRAP: 'broker:9092', KAFKA_TOPICS_CMD: kafka.command };
    const refused = run('sh', [SCRIPT], { env });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('certify has 4 partitions, 12 wanted (KAFKA_ALTER_PARTITIONS=true adds them)');
    expect(refused.stdout).toContain('notify ok (6 partitions, 6 wanted)');

    const altered = run('sh', [SCRIPT], { env: { ...env, KAFKA_ALTER_PARTITIONS: 'true' } });
    expect(altered.status).toBe(0);
    expect(altered.stdout).toContain('certify: partitions raised from 4 to 12');
    expect(readFileSync(kafka.log, 'utf8')).toContain('--alter --topic certify --partitions 12');

    const again = run('sh', [SCRIPT], { env });
    expect(again.status).toBe(0);
  });

  it('names what is missing', () => {
    const result = run('sh', [SCRIPT], { env: { PATH: process.env.PATH } });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('KAFKA_BOOTSTRAP is required');
  });
});
