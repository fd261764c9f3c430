package io.nimbus.cluster;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PaxosCodecTest {
    static final Ballot B = new Ballot(0x18c1f0a2b3c40L, "node-1");
    static final Proposal P = new Proposal(B, "välue".getBytes());
    static final Proposal T = Proposal.tombstone(new Ballot(7, "n2"));

    static final List<PaxosMessage> SAMPLES = List.of(
            new PaxosMessage.Prepare("key/é", B),
            new PaxosMessage.Propose("k", P),
            new PaxosMessage.Propose("k", new Proposal(B, new byte[0])),
            new PaxosMessage.Commit("k", T),
            new PaxosMessage.Propose("k", P.reproposed(new Ballot(B.counter() + 5, "n3"))),
            new PaxosMessage.Commit("k", T.reproposed(new Ballot(9, "n3"))),
            new PaxosMessage.ReadCommitted("k"),
            new PaxosMessage.Promised(B, P, T),
            new PaxosMessage.Promised(B, null, null),
            new PaxosMessage.Accepted(B),
            new PaxosMessage.Rejected(B),
            new PaxosMessage.Committed(),
            new PaxosMessage.State(new KeyState(B, P, P)),
            new PaxosMessage.State(KeyState.EMPTY));

    @Test
    void everyMessageRoundTrips() {
        for (PaxosMessage m : SAMPLES) {
            assertEquals(m, PaxosCodec.decode(PaxosCodec.type(m), PaxosCodec.encode(m)), m.toString());
        }
    }

    @Test
    void truncationsAndTrailingBytesAreMalformed() {
        for (PaxosMessage m : SAMPLES) {
            byte[] full = PaxosCodec.encode(m);
            for (int len = 0; len < full.length; len++) {
                byte[] cut = Arrays.copyOf(full, len);
                if (m instanceof PaxosMessage.State && len == 0) {
                    continue; // an empty state record decodes as the empty state
                }
                assertThrows(MalformedMessageException.class, () -> PaxosCodec.decode(PaxosCodec.type(m), cut),
                        m + " cut to " + len);
            }
            assertThrows(MalformedMessageException.class,
                    () -> PaxosCodec.decode(PaxosCodec.type(m), Arrays.copyOf(full, full.length + 1)));
        }
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decode(99, new byte[0]));
    }
}
