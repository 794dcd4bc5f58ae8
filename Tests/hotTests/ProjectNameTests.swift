import Testing

@testable import hot

@Suite("A new project's name")
struct ProjectNameTests {
    @Test("the folder's own name, with . and .. read as the path means them")
    func folderName() {
        #expect(projectName(for: "/work/shop") == "shop")
        #expect(projectName(for: "/work/shop/.") == "shop", "hot init with no folder, in shop")
        #expect(projectName(for: "/work/shop/sub/..") == "shop")
        #expect(projectName(for: "/work/My Shop") == "my_shop")
        #expect(projectName(for: "/work/2shop") == "app_2shop")
        #expect(projectName(for: "/") == "app")
    }
}
