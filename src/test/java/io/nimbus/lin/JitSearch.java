package io.nimbus.lin;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Searches for a linearization of one key's operations: Wing &amp; Gong's backtracking with Lowe's
 * memoization ("Testing for linearizability", 2017), as in Porcupine.
 *
 * <p>Calls and responses of the operations that must take effect (OK, REJECTED) form a doubly linked list
 * in time order. At each configuration the candidates for "linearized next" are the calls before the first
 * response still in the list: that response's operation cannot be put off any longer. Linearizing an
 * operation unlinks its call and response (dancing links); backtracking relinks them. When the list is
 * empty every acknowledged operation is placed and the history is linearizable.
 *
 * <p>Indeterminate operations have no response. Their alternatives ({@link KeyEncoding}) are kept outside
 * the list and are candidates whenever their call precedes the first response, provided no other
 * alternative of the same operation is placed and the version they make is not made yet. They may also
 * stay unplaced forever (the operation failed or never ran). They are tried after the acknowledged
 * candidates, so that {@link DominanceMemo} finds the configurations without them first.
 *
 * <p>Symmetry: indeterminate operations that agree on kind, expected version and
 * {@link ModelOp#twinClass()} are interchangeable once both are invoked: for every orphan still to be made
 * (its deadline not passed) both are candidates or neither, and each alternative leads to the same state
 * (values nobody can read are {@link ModelOp#ANY_VALUE} or {@link RegisterModel#UNSEEN}). So of such a
 * class only the earliest-invoked unused member is tried: any linearization can swap its members into
 * that order. The used members are then a prefix of the class in call order, and a counter tracks them.
 *
 * <p>Makers go just before their readers: once an indeterminate alternative has made an orphan version V,
 * the next operations placed must be rejected ones (they change nothing) until one that mentions V (reads
 * it, reports it, or expects it). Any linearization has this form or can be given it: V is unique, so
 * whatever changes the state first makes V unobservable forever, and a maker of a V that nobody then
 * relies on can be replaced by its "unseen version" alternative. Whether a configuration is under this
 * rule depends only on the configuration (its state is V and no operation mentioning V is placed), so the
 * memo stays sound.
 *
 * <p>Operations are referred to by their position in the {@code ops} array given to the constructor. The
 * search stops at {@code maxStates} recorded configurations and reports {@link Verdict#BUDGET}.
 */
final class JitSearch {

    enum Verdict { LINEARIZABLE, VIOLATION, BUDGET }

    /**
     * The deepest configuration where the search got stuck: operations placed in {@code prefix} order
     * (with {@code statesAfter}), then {@code blocking} (whose response came next) could not be preceded by
     * any of {@code candidates}, nor placed itself. All are positions in the search's {@code ops}.
     */
    record DeadEnd(int[] prefix, long[] statesAfter, int blocking, int[] candidates) {
        long state() {
            return prefix.length == 0 ? RegisterModel.ABSENT : statesAfter[prefix.length - 1];
        }
    }

    record Outcome(Verdict verdict, long states, DeadEnd deepest) {
    }

    private final ModelOp[] ops;
    private final long maxStates;
    private final Node head = new Node(-1, false, -1);
    private final Node[] callOf;
    private final int[] bitOf;
    private final int[] inDoubt;
    private final int[] inDoubtCallPos;
    private final boolean[] operationPlaced;
    private final boolean[] versionMade;
    private final int[] symmetryClass;
    private final int[] rankInClass;
    private final int[] usedInClass;
    private final long[] acked;
    private final long[] used;
    private final DominanceMemo memo = new DominanceMemo();
    private DeadEnd deepest;

    /**
     * @param ops            the operations (alternatives of one indeterminate operation share an index)
     * @param operationCount bound on {@link ModelOp#index()}
     * @param versionIds     bound on version ids
     */
    JitSearch(ModelOp[] ops, int operationCount, int versionIds, long maxStates) {
        this.ops = ops;
        this.maxStates = maxStates;
        this.callOf = new Node[ops.length];
        this.bitOf = new int[ops.length];
        this.operationPlaced = new boolean[operationCount];
        this.versionMade = new boolean[versionIds];
        List<long[]> events = new ArrayList<>(); // {time, 0 call / 1 response, position}
        int ackedCount = 0;
        int inDoubtCount = 0;
        for (int k = 0; k < ops.length; k++) {
            events.add(new long[] {ops[k].invoke(), 0, k});
            if (ops[k].indeterminate()) {
                inDoubtCount++;
            } else {
                bitOf[k] = ackedCount++;
                events.add(new long[] {ops[k].response(), 1, k});
            }
        }
        // At equal times calls go first: such operations overlap, which is the permissive reading.
        events.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
                .thenComparingLong(e -> e[2]));
        this.inDoubt = new int[inDoubtCount];
        this.inDoubtCallPos = new int[inDoubtCount];
        Node last = head;
        int nextBit = 0;
        for (int pos = 0; pos < events.size(); pos++) {
            long[] e = events.get(pos);
            int k = (int) e[2];
            if (ops[k].indeterminate()) {
                // numbered in call order, so that inDoubt[] and inDoubtCallPos[] are sorted by call
                bitOf[k] = nextBit;
                inDoubt[nextBit] = k;
                inDoubtCallPos[nextBit++] = pos;
                continue;
            }
            Node n = new Node(k, e[1] == 0, pos);
            if (n.call) {
                callOf[k] = n;
            } else {
                callOf[k].match = n;
            }
            n.prev = last;
            last.next = n;
            last = n;
        }
        this.acked = new long[(ackedCount + 63) / 64];
        this.used = new long[(inDoubtCount + 63) / 64];
        this.symmetryClass = new int[ops.length];
        this.rankInClass = new int[ops.length];
        this.usedInClass = new int[classify()];
    }

    /** Fills {@link #symmetryClass} and {@link #rankInClass} for in-doubt alternatives; returns the class count. */
    private int classify() {
        Map<List<Object>, Integer> classes = new HashMap<>();
        List<Integer> sizes = new ArrayList<>();
        Map<Integer, Integer> rankOfOperation = new HashMap<>();
        for (int k : inDoubt) { // in call order; the alternatives of one operation share class and rank
            ModelOp op = ops[k];
            int c = classes.computeIfAbsent(List.of(op.kind(), op.expected(), op.twinClass()), x -> classes.size());
            if (c == sizes.size()) {
                sizes.add(0);
            }
            symmetryClass[k] = c;
            Integer rank = rankOfOperation.get(op.index());
            if (rank == null) {
                rank = sizes.get(c);
                rankOfOperation.put(op.index(), rank);
                sizes.set(c, rank + 1);
            }
            rankInClass[k] = rank;
        }
        return sizes.size();
    }

    Outcome run() {
        if (head.next == null) {
            return new Outcome(Verdict.LINEARIZABLE, 0, null);
        }
        Deque<Frame> stack = new ArrayDeque<>();
        stack.push(new Frame(RegisterModel.ABSENT, -1, head.next, -1));
        while (!stack.isEmpty()) {
            if (memo.size() >= maxStates) {
                return new Outcome(Verdict.BUDGET, memo.size(), deepest);
            }
            Frame f = stack.peek();
            int k = nextCandidate(f);
            if (k < 0) {
                noteDeadEnd(stack, f);
                stack.pop();
                if (f.placed >= 0) {
                    unplace(f.placed);
                }
                continue;
            }
            long next = RegisterModel.step(f.state, ops[k]);
            if (next == RegisterModel.INVALID) {
                continue;
            }
            place(k);
            if (!memo.visit(acked, used, next)) {
                unplace(k);
                continue;
            }
            if (head.next == null) {
                return new Outcome(Verdict.LINEARIZABLE, memo.size(), null);
            }
            stack.push(new Frame(next, k, head.next, requiredAfter(f.required, ops[k])));
        }
        return new Outcome(Verdict.VIOLATION, memo.size(), deepest);
    }

    /** The next operation to try at {@code f}, or -1 when all were tried. */
    private int nextCandidate(Frame f) {
        while (f.firstResponse == null) {
            Node n = f.cursor;
            if (!n.call) {
                f.firstResponse = n; // the list always ends with a response, so the walk stops here
                break;
            }
            f.cursor = n.next;
            if (allowedAfter(f.required, ops[n.op])) {
                return n.op;
            }
        }
        while (f.nextInDoubt < inDoubt.length && inDoubtCallPos[f.nextInDoubt] < f.firstResponse.pos) {
            int k = inDoubt[f.nextInDoubt++];
            if (available(k) && allowedAfter(f.required, ops[k])) {
                return k;
            }
        }
        return -1;
    }

    /** The orphan version whose reader must come next after placing {@code op}, or -1. */
    private static int requiredAfter(int required, ModelOp op) {
        if (op.indeterminate() && op.newVersion() >= 0) {
            return op.newVersion(); // made an orphan: someone must rely on it next
        }
        if (op.outcome() == Operation.Outcome.REJECTED && !mentions(op, required)) {
            return required;
        }
        return -1;
    }

    /** Whether {@code op} may be placed while an operation relying on {@code required} is awaited. */
    private static boolean allowedAfter(int required, ModelOp op) {
        return required < 0 || op.outcome() == Operation.Outcome.REJECTED || mentions(op, required);
    }

    private static boolean mentions(ModelOp op, int version) {
        return version >= 0 && (op.expected() == version
                || (op.seen() == ModelOp.SEEN_FOUND || op.seen() == ModelOp.SEEN_VERSION) && op.seenVersion() == version);
    }

    /** An indeterminate alternative may be placed: its operation and its version are still free. */
    private boolean available(int k) {
        ModelOp op = ops[k];
        return rankInClass[k] == usedInClass[symmetryClass[k]] && !operationPlaced[op.index()]
                && (op.newVersion() < 0 || !versionMade[op.newVersion()]);
    }

    private void place(int k) {
        ModelOp op = ops[k];
        if (op.indeterminate()) {
            set(used, bitOf[k]);
            operationPlaced[op.index()] = true;
            if (op.newVersion() >= 0) {
                versionMade[op.newVersion()] = true;
            }
            usedInClass[symmetryClass[k]]++;
        } else {
            set(acked, bitOf[k]);
            Node call = callOf[k];
            unlink(call);
            unlink(call.match);
        }
    }

    private void unplace(int k) {
        ModelOp op = ops[k];
        if (op.indeterminate()) {
            clear(used, bitOf[k]);
            operationPlaced[op.index()] = false;
            if (op.newVersion() >= 0) {
                versionMade[op.newVersion()] = false;
            }
            usedInClass[symmetryClass[k]]--;
        } else {
            clear(acked, bitOf[k]);
            Node call = callOf[k];
            relink(call.match);
            relink(call);
        }
    }

    private void noteDeadEnd(Deque<Frame> stack, Frame f) {
        int depth = stack.size() - 1;
        if (f.required >= 0 || deepest != null && deepest.prefix().length >= depth) {
            return; // a frame awaiting a reader is not a place where "nothing could come next"
        }
        int[] prefix = new int[depth];
        long[] states = new long[depth];
        int i = 0;
        for (Iterator<Frame> it = stack.descendingIterator(); it.hasNext(); ) {
            Frame frame = it.next();
            if (frame.placed >= 0) {
                prefix[i] = frame.placed;
                states[i++] = frame.state;
            }
        }
        List<Integer> candidates = new ArrayList<>();
        for (Node n = head.next; n != f.firstResponse; n = n.next) {
            candidates.add(n.op);
        }
        for (int b = 0; b < inDoubt.length && inDoubtCallPos[b] < f.firstResponse.pos; b++) {
            if (available(inDoubt[b])) {
                candidates.add(inDoubt[b]);
            }
        }
        deepest = new DeadEnd(prefix, states, f.firstResponse.op,
                candidates.stream().mapToInt(Integer::intValue).toArray());
    }

    private static void unlink(Node n) {
        n.prev.next = n.next;
        if (n.next != null) {
            n.next.prev = n.prev;
        }
    }

    private static void relink(Node n) {
        n.prev.next = n;
        if (n.next != null) {
            n.next.prev = n;
        }
    }

    private static void set(long[] bits, int i) {
        bits[i >>> 6] |= 1L << i;
    }

    private static void clear(long[] bits, int i) {
        bits[i >>> 6] &= ~(1L << i);
    }

    /** A call or response in the event list. */
    private static final class Node {
        final int op;
        final boolean call;
        final int pos;
        Node match;
        Node prev;
        Node next;

        Node(int op, boolean call, int pos) {
            this.op = op;
            this.call = call;
            this.pos = pos;
        }
    }

    /** One configuration on the search path, and how far its candidates have been tried. */
    private static final class Frame {
        final long state;
        final int placed;
        final int required;
        Node cursor;
        Node firstResponse;
        int nextInDoubt;

        Frame(long state, int placed, Node cursor, int required) {
            this.state = state;
            this.placed = placed;
            this.cursor = cursor;
            this.required = required;
        }
    }
}
