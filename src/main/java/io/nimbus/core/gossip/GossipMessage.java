package io.nimbus.core.gossip;

import java.util.List;

/**
 * The three messages of one gossip exchange (Cassandra's SYN / ACK / ACK2):
 * <ol>
 *   <li>{@link Syn}: the initiator's digests ("spread").</li>
 *   <li>{@link Ack}: the receiver answers with every state it has newer than the digests (and every
 *       state the initiator did not mention), plus digests of what it wants ("ack" + "pull").</li>
 *   <li>{@link Ack2}: the initiator pushes the states that were asked for.</li>
 * </ol>
 */
public sealed interface GossipMessage {
    String from();

    record Syn(String from, Endpoint fromEndpoint, List<Digest> digests) implements GossipMessage {
        public Syn {
            digests = List.copyOf(digests);
        }
    }

    record Ack(String from, List<NodeState> states, List<Digest> requests) implements GossipMessage {
        public Ack {
            states = List.copyOf(states);
            requests = List.copyOf(requests);
        }
    }

    record Ack2(String from, List<NodeState> states) implements GossipMessage {
        public Ack2 {
            states = List.copyOf(states);
        }
    }
}
