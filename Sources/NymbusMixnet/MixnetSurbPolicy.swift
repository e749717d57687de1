import NymbusCrypto

/// The reply-SURB rules of nym-client's reply controller, with nym-client's defaults.
///
/// Every number comes from `common/client-core/config-types/src/lib.rs` and
/// `reply_controller/{receiver,sender}_controller.rs` (NYM-CLIENT.md §5.2). The durations are
/// settable so tests can exercise re-requests and drops in milliseconds instead of minutes.
public struct MixnetSurbPolicy: Sendable, Equatable {
    /// SURBs the holder never spends on reply data (`minimum_reply_surb_storage_threshold`).
    public var reserve: Int = 10
    /// Extra SURBs the holder aims to keep above the reserve (`minimum_reply_surb_threshold_buffer`).
    public var thresholdBuffer: Int = 0
    /// The holder stops asking once it holds or awaits this many (`maximum_reply_surb_storage_threshold`).
    public var maximumStorage: Int = 200
    /// Smallest top-up request (`minimum_reply_surb_request_size`).
    public var minimumRequest: Int = 10
    /// Largest top-up request (`maximum_reply_surb_request_size`).
    public var maximumRequest: Int = 50
    /// The original sender caps any request at this (`maximum_allowed_reply_surb_request_size`).
    public var maximumAllowedRequest: Int = 500
    /// The original sender answers in messages of at most this many SURBs.
    public var answerBatch: Int = 100
    /// How often the holder inspects books with pending replies (nym-client: every 5 s).
    public var inspectionInterval: Duration = .seconds(5)
    /// No SURBs for this long while replies wait: ask again (`maximum_reply_surb_rerequest_waiting_period`).
    public var rerequestWait: Duration = .seconds(10)
    /// No SURBs for this long while replies wait: drop them (`maximum_reply_surb_drop_waiting_period`).
    public var dropWait: Duration = .seconds(300)
    /// After more than this many re-requests the pending replies are dropped (`maximum_reply_surbs_rerequests`).
    public var maximumRerequests: Int = 5

    /// nym-client's defaults.
    public init() {}

    /// nym-client's rules with the waiting periods shortened (for tests).
    public init(inspectionInterval: Duration, rerequestWait: Duration, dropWait: Duration) {
        self.inspectionInterval = inspectionInterval
        self.rerequestWait = rerequestWait
        self.dropWait = dropWait
    }

    /// Throws `MixnetError.invalidConfiguration` naming the first field out of its range
    /// (``FieldCheck``).
    public func validate() throws(MixnetError) {
        let check = FieldCheck<MixnetError>("MixnetSurbPolicy", .invalidConfiguration)
        try check.atLeast("reserve", reserve, 0)
        try check.atLeast("thresholdBuffer", thresholdBuffer, 0)
        try check.atLeast("maximumStorage", maximumStorage, 0)
        try check.atLeast("minimumRequest", minimumRequest, 1)
        try check.atLeast("maximumRequest", maximumRequest, minimumRequest)
        try check.atLeast("maximumAllowedRequest", maximumAllowedRequest, 1)
        try check.atLeast("answerBatch", answerBatch, 1)
        try check.atLeast("maximumRerequests", maximumRerequests, 0)
        try check.above("inspectionInterval", inspectionInterval, .zero)
        try check.atLeast("rerequestWait", rerequestWait, .zero)
        try check.atLeast("dropWait", dropWait, .zero)
    }
}
